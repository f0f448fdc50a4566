/* session.c - the FUSE session on the libuv loop: mount, receive, shutdown.
 *
 * One uv_poll watches the session fd; its callback drains requests until -EAGAIN,
 * at most BATCH per wake-up so timers stay on time under load (FUSE-FACTS).  A
 * negative poll status or a receive of 0 means the mount went away from outside.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "elements/log.h"
#include "elements/server.h"
#include "fs/fs.h"
#include "fs/inode.h"

#define BATCH 64

static struct fuse_session *se;
static struct fuse_buf fbuf;
static uv_poll_t poller;
static int polling;
static void (*gone_cb)(void);

void
fs_inval_attr(uint64_t ino)
{
	/* An offset below 0 drops the attributes only; the kernel handles it within
	 * the write to /dev/fuse and waits on no request of ours. */
	if (se != NULL)
		fuse_lowlevel_notify_inval_inode(se, (fuse_ino_t)ino, -1, 0);
}

static void
on_readable(uv_poll_t *h, int status, int events)
{
	int i, res;

	if (status < 0) {
		log_info("the mount went away (%s)", uv_strerror(status));
		goto gone;
	}
	for (i = 0; i < BATCH; i++) {
		res = fuse_session_receive_buf(se, &fbuf);
		if (res == -EAGAIN)
			return;
		if (res == -EINTR)
			continue;
		if (res <= 0 || fuse_session_exited(se)) {
			if (res < 0)
				log_warnx("reading the FUSE device: %s", strerror(-res));
			goto gone;
		}
		fuse_session_process_buf(se, &fbuf);
	}
	return;
gone:
	uv_poll_stop(&poller);
	if (gone_cb != NULL)
		gone_cb();
}

/* Is dir itself a mount point of a FUSE file system? */
static int
fuse_mount_at(const char *mnt, const char *type, const void *dir)
{
	return strcmp(mnt, dir) == 0 && strncmp(type, "fuse", 4) == 0;
}

/* Clear a stale mount (its server died): lazily, so it works even while busy.  This
 * runs at start-up, before the loop, so waiting for fusermount3 blocks nothing. */
static int
clear_stale(const char *dir)
{
	char prog[] = "fusermount3", u[] = "-u", z[] = "-z", dashes[] = "--";
	char *path, *argv[6];
	int status, rc;
	pid_t pid;

	if (umount2(dir, MNT_DETACH) == 0)
		return 0;
	/* Not root: fusermount3 may do it for the owner.  The path is one argument, never
	 * parsed by a shell, whatever characters it holds. */
	if ((path = strdup(dir)) == NULL)
		return -ENOMEM;
	argv[0] = prog; argv[1] = u; argv[2] = z; argv[3] = dashes; argv[4] = path;
	argv[5] = NULL;
	rc = posix_spawnp(&pid, prog, NULL, NULL, argv, environ);
	free(path);
	if (rc != 0)
		return -EBUSY;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -EBUSY;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EBUSY;
}

static int
check_mountpoint(const char *dir, char *real, char **msg)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		if (errno == ENOTCONN) {
			if (clear_stale(dir) < 0) {
				if (asprintf(msg, "%s: a stale mount is there and could not be cleared "
				    "(try: umount -l %s)", dir, dir) < 0)
					*msg = NULL;
				return -EBUSY;
			}
			log_info("cleared a stale mount at %s (its server had died)", dir);
			if (stat(dir, &st) < 0)
				goto fail;
		} else {
			goto fail;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		if (asprintf(msg, "%s: not a directory", dir) < 0)
			*msg = NULL;
		return -ENOTDIR;
	}
	if (realpath(dir, real) == NULL)
		goto fail;
	if (server_mounts_any(fuse_mount_at, real)) {
		if (asprintf(msg, "%s: already mounted (another circuit server?); unmount it first "
		    "with: fusermount3 -u %s", dir, dir) < 0)
			*msg = NULL;
		return -EBUSY;
	}
	return 0;
fail:
	if (asprintf(msg, "%s: %s", dir, strerror(errno)) < 0)
		*msg = NULL;
	return -errno;
}

int
fs_mount(uv_loop_t *loop, const char *dir, void (*gone)(void), char **msg)
{
	char *argv[] = { "circuit", "-o", "fsname=circuit,subtype=circuit", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	char real[PATH_MAX];
	int rc;

	*msg = NULL;
	if ((rc = check_mountpoint(dir, real, msg)) < 0)
		return rc;
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		rc = -errno;
		if (asprintf(msg, "/dev/fuse: %s (is the fuse module loaded? apt-get install fuse3)",
		    strerror(errno)) < 0)
			*msg = NULL;
		return rc;
	}
	if (inode_init() < 0 || fs_notify_init(loop) < 0) {
		rc = -ENOMEM;
		goto fail_inode;
	}
	se = fuse_session_new(&args, &fs_ops, sizeof fs_ops, NULL);
	fuse_opt_free_args(&args);
	if (se == NULL) {
		rc = -EIO;
		if (asprintf(msg, "fuse_session_new failed") < 0)
			*msg = NULL;
		goto fail_inode;
	}
	if (fuse_session_mount(se, real) != 0) {
		rc = -EIO;
		if (asprintf(msg, "%s: mount failed (see the message above)", dir) < 0)
			*msg = NULL;
		goto fail_session;
	}
	rc = uv_poll_init(loop, &poller, fuse_session_fd(se));
	if (rc < 0) {
		if (asprintf(msg, "uv_poll_init: %s", uv_strerror(rc)) < 0)
			*msg = NULL;
		goto fail_mount;
	}
	uv_poll_start(&poller, UV_READABLE, on_readable);
	polling = 1;
	gone_cb = gone;
	return 0;

fail_mount:
	fuse_session_unmount(se);
fail_session:
	fuse_session_destroy(se);
	se = NULL;
fail_inode:
	inode_fini();
	return rc;
}

void
fs_unmount(void)
{
	if (se == NULL)
		return;
	if (polling) {
		uv_poll_stop(&poller);
		uv_close((uv_handle_t *)&poller, NULL);
		polling = 0;
	}
	fs_fail_pending();
	fs_notify_fini();
	fuse_session_unmount(se);
	fuse_session_destroy(se);
	se = NULL;
	free(fbuf.mem);
	fbuf.mem = NULL;
	inode_fini();
}
