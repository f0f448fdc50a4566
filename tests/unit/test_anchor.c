/* test_anchor.c - the anchor tree, anchor names and ctl command parsing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "elements/anchor.h"
#include "elements/local.h"

Test(names, good_names)
{
	char longest[256];

	memset(longest, 'a', 255);
	longest[255] = '\0';
	cr_expect(anchor_name_ok("charlie"));
	cr_expect(anchor_name_ok("a.b_c@d-e"));
	cr_expect(anchor_name_ok("X0123456789abcdef"));
	cr_expect(anchor_name_ok("9"));
	cr_expect(anchor_name_ok(longest));
}

Test(names, bad_names)
{
	char toolong[257];

	memset(toolong, 'a', 256);
	toolong[256] = '\0';
	cr_expect_not(anchor_name_ok(""));
	cr_expect_not(anchor_name_ok(NULL));
	cr_expect_not(anchor_name_ok(".hidden"));
	cr_expect_not(anchor_name_ok("a/b"));
	cr_expect_not(anchor_name_ok("a b"));
	cr_expect_not(anchor_name_ok("a:b"));
	cr_expect_not(anchor_name_ok("caf\xc3\xa9"));
	cr_expect_not(anchor_name_ok(toolong));
}

Test(names, reserved_names)
{
	const char *r[] = { "ctl", "peek", "help", "error", "log", "stdin", "stdout",
	    "stderr", "wait", "send", "recv" };

	for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
		cr_expect(anchor_name_reserved(r[i]), "%s", r[i]);
		cr_expect_not(anchor_name_ok(r[i]), "%s", r[i]);
	}
	cr_expect_not(anchor_name_reserved("ctl2"));
}

Test(tree, create_lookup_remove)
{
	struct anchor *root = anchor_new_root("X0123456789abcdef"), *a, *b, *c;

	cr_assert_not_null(root);
	cr_expect_str_eq(root->path, "/X0123456789abcdef");
	cr_assert_eq(anchor_create(root, "this", &a), 0);
	cr_assert_eq(anchor_create(a, "is", &b), 0);
	cr_assert_eq(anchor_create(b, "charlie", &c), 0);
	cr_expect_str_eq(c->path, "/X0123456789abcdef/this/is/charlie");
	cr_expect_eq(anchor_lookup(root, "/X0123456789abcdef/this/is/charlie"), c);
	cr_expect_eq(anchor_lookup(root, "/X0123456789abcdef/this/is/charlie/"), c);
	cr_expect_eq(anchor_lookup(root, "/X0123456789abcdef"), root);
	cr_expect_null(anchor_lookup(root, "/Xffffffffffffffff/this"));
	cr_expect_null(anchor_lookup(root, "/X0123456789abcdef/this/nope"));
	cr_expect_null(anchor_lookup(root, "X0123456789abcdef/this"));
	cr_expect_null(anchor_lookup(root, "/X0123456789abcde"));
	cr_expect_eq(anchor_create(a, "is", NULL), -EEXIST);
	cr_expect_eq(anchor_create(a, ".x", NULL), -EINVAL);
	cr_expect_eq(anchor_create(a, "send", NULL), -EINVAL);
	cr_expect_eq(a->nchildren, 1);
	cr_expect_eq(anchor_remove(a), -ENOTEMPTY);
	cr_expect_eq(anchor_remove(root), -ENOTEMPTY);
	cr_expect_eq(anchor_remove(c), 0);
	cr_expect_eq(anchor_remove(b), 0);
	cr_expect_eq(a->nchildren, 0);
	cr_expect_null(anchor_lookup(root, "/X0123456789abcdef/this/is"));
	anchor_set_error(a, "boom");
	cr_expect_str_eq(a->error, "boom");
	anchor_set_error(a, NULL);
	cr_expect_null(a->error);
	anchor_free_tree(root);
}

Test(tree, server_of_path)
{
	char buf[32];

	cr_expect_eq(anchor_path_server("/X0123456789abcdef/a/b", buf, sizeof buf), 0);
	cr_expect_str_eq(buf, "X0123456789abcdef");
	cr_expect_eq(anchor_path_server("/X0123456789abcdef", buf, sizeof buf), 0);
	cr_expect_str_eq(buf, "X0123456789abcdef");
	cr_expect_eq(anchor_path_server("/", buf, sizeof buf), -EINVAL);
	cr_expect_eq(anchor_path_server("relative", buf, sizeof buf), -EINVAL);
	cr_expect_eq(anchor_path_server("/X0123456789abcdef", buf, 4), -EINVAL);
}

static void
expect_split(const char *in, int rc, const char *verb, const char *arg)
{
	char buf[256], *v = NULL, *a = NULL;

	snprintf(buf, sizeof buf, "%s", in);
	cr_expect_eq(local_split_ctl(buf, &v, &a), rc, "split of %s", in);
	if (rc == 0) {
		cr_expect_str_eq(v, verb);
		cr_expect_str_eq(a, arg);
	}
}

Test(ctl, split)
{
	expect_split("mkchan 3\n", 0, "mkchan", "3");
	expect_split("mkchan 3", 0, "mkchan", "3");
	expect_split("  mkchan\t 3 \r\n\n", 0, "mkchan", "3");
	expect_split("scrub\n", 0, "scrub", "");
	expect_split("mkproc {\"Path\": \"/bin/ls\", \"Args\": [\"/\"]}\n", 0, "mkproc",
	    "{\"Path\": \"/bin/ls\", \"Args\": [\"/\"]}");
	expect_split("set a. 3600 IN A 1.2.3.4", 0, "set", "a. 3600 IN A 1.2.3.4");
	expect_split("", -EINVAL, NULL, NULL);
	expect_split("\n", -EINVAL, NULL, NULL);
	expect_split("   \t\n", -EINVAL, NULL, NULL);
	expect_split("mk\x01chan 3", -EINVAL, NULL, NULL);
}
