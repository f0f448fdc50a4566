/* key.c - the cluster key: files, generation, the user's own key (see key.h). */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>

#include "net/key.h"

#define KEY_FILE_MAX	256	/* a key file is 65 bytes; anything much longer is not one */

int
key_load(const char *path, uint8_t key[KEY_LEN], char *msg, size_t msglen)
{
	char text[KEY_FILE_MAX + 1];
	const char *end;
	struct stat st;
	size_t got = 0, bin = 0;
	ssize_t n;
	int fd, rc;

	if (sodium_init() < 0) {
		snprintf(msg, msglen, "libsodium does not initialise");
		return -EIO;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 && errno == ELOOP)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(msg, msglen, "key file %s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(msg, msglen, "key file %s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		close(fd);
		snprintf(msg, msglen, "key file %s: other users may read it (mode %04o): "
		    "chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
		return -EPERM;
	}
	while (got < sizeof text - 1 && (n = read(fd, text + got, sizeof text - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			close(fd);
			snprintf(msg, msglen, "key file %s: %s", path, strerror(-rc));
			return rc;
		}
		got += (size_t)n;
	}
	close(fd);
	text[got] = '\0';
	rc = sodium_hex2bin(key, KEY_LEN, text, got, NULL, &bin, &end);
	sodium_memzero(text, sizeof text);
	if (rc != 0 || bin != KEY_LEN || end[strspn(end, " \t\r\n")] != '\0') {
		sodium_memzero(key, KEY_LEN);
		snprintf(msg, msglen, "key file %s: not a key (want the 64 hex digits that "
		    "`circuit keygen` prints)", path);
		return -EINVAL;
	}
	return 0;
}

int
key_generate(char text[66])
{
	uint8_t key[KEY_LEN];

	if (sodium_init() < 0)
		return -EIO;
	randombytes_buf(key, sizeof key);
	sodium_bin2hex(text, 65, key, sizeof key);
	sodium_memzero(key, sizeof key);
	text[64] = '\n';
	text[65] = '\0';
	return 0;
}

/* Create path with a new key unless it exists: written whole under a temporary name,
 * then linked into place, so a second program starting at the same time reads either
 * no file or a whole one. */
static int
create_key(const char *path, char *msg, size_t msglen)
{
	char tmp[4096 + 32], text[66];
	int fd, rc = 0;

	snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
	if ((rc = key_generate(text)) < 0) {
		snprintf(msg, msglen, "libsodium does not initialise");
		return rc;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, 65) != 65 || fsync(fd) < 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	sodium_memzero(text, sizeof text);
	if (rc == 0 && link(tmp, path) < 0 && errno != EEXIST)
		rc = -errno;
	unlink(tmp);
	if (rc < 0)
		snprintf(msg, msglen, "cannot create the key file %s: %s", path, strerror(-rc));
	return rc;
}

/* The user's home directory, or NULL. */
static const char *
home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if ((home == NULL || *home == '\0') && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	return home != NULL && *home != '\0' ? home : NULL;
}

int
path_expand_home(const char *path, char *buf, size_t size)
{
	const char *home = NULL;
	int n;

	if (path[0] == '~' && (path[1] == '\0' || path[1] == '/') && (home = home_dir()) != NULL)
		n = snprintf(buf, size, "%s%s", home, path + 1);
	else
		n = snprintf(buf, size, "%s", path);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int
key_own(uint8_t key[KEY_LEN], char *path, size_t pathlen, char *msg, size_t msglen)
{
	const char *home = home_dir();
	char file[4096];
	int rc;

	if (home == NULL) {
		snprintf(msg, msglen, "no home directory for the default key: use -hmac FILE");
		return -ENOENT;
	}
	/* Beside ~/.circuit, the seed's dial-in URL file, not in it. */
	snprintf(file, sizeof file, "%s/.circuit.key", home);
	if (path != NULL)
		snprintf(path, pathlen, "%s", file);
	if (access(file, F_OK) < 0 && errno == ENOENT && (rc = create_key(file, msg, msglen)) < 0)
		return rc;
	return key_load(file, key, msg, msglen);
}

int
key_find(const char *file, int insecure, uint8_t key[KEY_LEN], int *have,
    char *msg, size_t msglen)
{
	char path[4096];
	int rc;

	*have = 0;
	if (file != NULL && insecure) {
		snprintf(msg, msglen, "-hmac and -insecure exclude each other");
		return -EINVAL;
	}
	if (insecure)
		return 0;
	if (file == NULL && (file = getenv("CIRCUIT_HMAC")) != NULL && *file == '\0')
		file = NULL;
	if (file != NULL && path_expand_home(file, path, sizeof path) < 0) {
		snprintf(msg, msglen, "key file %.64s...: path too long", file);
		return -ENAMETOOLONG;
	}
	rc = file != NULL ? key_load(path, key, msg, msglen) :
	    key_own(key, NULL, 0, msg, msglen);
	*have = rc == 0;
	return rc;
}
