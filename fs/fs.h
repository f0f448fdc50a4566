/* fs.h - the anchor tree as a FUSE file system (libfuse3 low-level API on the loop).
 *
 * fs/ maps each file operation onto an operation of the operation layer and knows
 * nothing of elements: directories are anchors, control files are element files.
 * Every FUSE request is answered exactly once: at once, or later by the completion
 * of its operation (which an interrupt cancels), or at shutdown.
 */
#ifndef CIRCUIT_FS_H
#define CIRCUIT_FS_H

#include <stdint.h>
#include <uv.h>

/* Mount the tree at dir and serve it on loop; gone() runs if the mount goes away
 * from outside (umount).  Handles a stale mount at dir; refuses a live one. */
int fs_mount(uv_loop_t *loop, const char *dir, void (*gone)(void), char **msg);

/* Answer every pending request, unmount and free the session (idempotent). */
void fs_unmount(void);

/* Requests waiting for an operation (for stk and tests). */
int fs_pending_count(void);

/* The handler table (fs/handlers.c; the open files' handlers are fs/io.c's), for fs_mount. */
struct fuse_lowlevel_ops;
extern const struct fuse_lowlevel_ops fs_ops;

/* Fail every pending request (shutdown) with EHOSTDOWN: cancel each with that errno,
 * then answer what still waits for another server. */
void fs_fail_pending(void);

/* Drop per-open state (poll handles, streams of files still open) and stop poll
 * notification (shutdown). */
void fs_notify_fini(void);

/* Tell the kernel to drop its cached attributes of inode ino (sizes that changed);
 * a no-op when not mounted. */
void fs_inval_attr(uint64_t ino);

/* Set up the notification queue on loop (fs_mount does it). */
int fs_notify_init(uv_loop_t *loop);

#endif
