/* test_key.c - how every program finds its cluster key (key_find): -hmac, then
 * $CIRCUIT_HMAC, then ~/.circuit.key; -insecure; a leading ~ in either path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <criterion/criterion.h>

#include "net/key.h"

static char home[64];

/* A fresh $HOME holding key file k (mode 0600, every byte 0x11), no $CIRCUIT_HMAC. */
static void
setup(void)
{
	char path[128];
	FILE *f;

	snprintf(home, sizeof home, "/tmp/circuit-test-key.XXXXXX");
	cr_assert_not_null(mkdtemp(home));
	setenv("HOME", home, 1);
	unsetenv("CIRCUIT_HMAC");
	snprintf(path, sizeof path, "%s/k", home);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < KEY_LEN; i++)
		fputs("11", f);
	fputs("\n", f);
	fclose(f);
	chmod(path, 0600);
}

static void
teardown(void)
{
	char path[128];

	snprintf(path, sizeof path, "%s/k", home);
	unlink(path);
	snprintf(path, sizeof path, "%s/.circuit.key", home);
	unlink(path);
	rmdir(home);
}

TestSuite(key, .init = setup, .fini = teardown);

Test(key, hmac_and_insecure_exclude_each_other)
{
	uint8_t key[KEY_LEN];
	char msg[256];
	int have = 1;

	cr_assert_eq(key_find("~/k", 1, key, &have, msg, sizeof msg), -EINVAL);
	cr_assert_str_eq(msg, "-hmac and -insecure exclude each other");
	cr_assert_eq(have, 0);
}

Test(key, insecure_alone_has_no_key)
{
	uint8_t key[KEY_LEN];
	char msg[256];
	int have = 1;

	setenv("CIRCUIT_HMAC", "~/k", 1);	/* the environment is no flag: no conflict */
	cr_assert_eq(key_find(NULL, 1, key, &have, msg, sizeof msg), 0);
	cr_assert_eq(have, 0);
}

Test(key, tilde_in_flag_and_environment)
{
	uint8_t key[KEY_LEN], want[KEY_LEN];
	char msg[256];
	int have = 0;

	memset(want, 0x11, sizeof want);
	cr_assert_eq(key_find("~/k", 0, key, &have, msg, sizeof msg), 0, "%s", msg);
	cr_assert_eq(have, 1);
	cr_assert_arr_eq(key, want, KEY_LEN);
	memset(key, 0, sizeof key);
	setenv("CIRCUIT_HMAC", "~/k", 1);
	cr_assert_eq(key_find(NULL, 0, key, &have, msg, sizeof msg), 0, "%s", msg);
	cr_assert_arr_eq(key, want, KEY_LEN);
}

Test(key, missing_file_names_the_expanded_path)
{
	uint8_t key[KEY_LEN];
	char msg[256], want[256];
	int have = 1;

	cr_assert_eq(key_find("~/nokey", 0, key, &have, msg, sizeof msg), -ENOENT);
	snprintf(want, sizeof want, "key file %s/nokey: No such file or directory", home);
	cr_assert_str_eq(msg, want);
	cr_assert_eq(have, 0);
}

Test(key, own_key_is_made_once)
{
	uint8_t a[KEY_LEN], b[KEY_LEN];
	char msg[256], path[128];
	struct stat st;
	int have = 0;

	cr_assert_eq(key_find(NULL, 0, a, &have, msg, sizeof msg), 0, "%s", msg);
	cr_assert_eq(have, 1);
	snprintf(path, sizeof path, "%s/.circuit.key", home);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(key_find(NULL, 0, b, &have, msg, sizeof msg), 0, "%s", msg);
	cr_assert_arr_eq(a, b, KEY_LEN);
}

Test(key, expand_home_only_a_leading_tilde)
{
	char buf[128], want[128];

	cr_assert_eq(path_expand_home("~/x", buf, sizeof buf), 0);
	snprintf(want, sizeof want, "%s/x", home);
	cr_assert_str_eq(buf, want);
	cr_assert_eq(path_expand_home("~", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, home);
	cr_assert_eq(path_expand_home("~user/x", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "~user/x");
	cr_assert_eq(path_expand_home("/a/~/b", buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "/a/~/b");
	cr_assert_eq(path_expand_home("~/x", buf, 4), -ENAMETOOLONG);
}
