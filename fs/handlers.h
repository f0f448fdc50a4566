/* handlers.h - fs/ internal: the waiting requests and the attributes that the
 * directory handlers (handlers.c) and the open-file handlers (io.c) share.
 *
 * A handler validates, builds an op with fs_new_op and starts it with fs_req_start
 * and fs_req_go; the op's completion (handlers.c) is the one place that replies.
 */
#ifndef CIRCUIT_FS_HANDLERS_H
#define CIRCUIT_FS_HANDLERS_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/stat.h>

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "elements/op.h"
#include "fs/file.h"

struct inode;

enum req_what { R_LOOKUP, R_GETATTR, R_OPENDIR, R_OPEN, R_READ, R_WRITE, R_CTL, R_MKDIR, R_RMDIR,
    R_FLUSH };

/* A FUSE request waiting for its operation. */
struct fs_req {
	fuse_req_t req;			/* NULL once answered at shutdown */
	struct op *op;
	enum req_what what;
	struct inode *dir;		/* lookup/mkdir: the parent; getattr: the file */
	char *name;			/* lookup/mkdir: the child name */
	struct fuse_file_info fi;	/* open/opendir: reply with it */
	enum file_class cls;		/* open */
	size_t size;			/* ctl write: bytes to acknowledge */
	TAILQ_ENTRY(fs_req) link;
};

/* List a request for op, answered as what; NULL (op freed, ENOMEM replied) if out
 * of memory.  The caller fills in the record, then calls fs_req_go. */
struct fs_req *fs_req_start(fuse_req_t req, struct op *op, enum req_what what);

/* Run the op of r; register for interrupts only once the record is complete. */
void fs_req_go(struct fs_req *r);

/* A new op of type t on path and file (either may be NULL), or NULL. */
struct op *fs_new_op(fuse_req_t req, enum op_type t, const char *path, const char *file);

/* Is name (a control file's name) a stream, as its element kind declares it? */
int fs_is_stream_file(const char *name);

/* Does getattr of in report its true size, by taking its snapshot? */
int fs_is_sized(const struct inode *in);

/* How long the kernel may keep the attributes of in. */
double fs_attr_timeout(const struct inode *in);

/* Report size bytes, in as many blocks. */
void fs_set_size(struct stat *st, int64_t size);

/* The attributes of in, without a round trip. */
void fs_fill_attr(const struct inode *in, struct stat *st);

/* The open r succeeded with op: make the per-open state and reply (io.c). */
void fs_reply_open(struct fs_req *r, struct op *op);

/* The handlers of io.c, for the table in handlers.c. */
void fs_ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
    struct fuse_file_info *fi);
void fs_ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi);
void fs_ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
    struct fuse_file_info *fi);
void fs_ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_ll_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
    struct fuse_pollhandle *ph);

#endif
