/* io.c - FUSE handlers of open files: open, read, write, flush, release, poll, and
 * the attributes (getattr, setattr), which for an open stream say where it ends.
 *
 * Like every handler they validate, build an op and start it (fs/handlers.h); the
 * op's completion in handlers.c replies, and an open's reply is built here
 * (fs_reply_open), where the per-open state (fs/file.h) is made.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "elements/op.h"
#include "fs/file.h"
#include "fs/fs.h"
#include "fs/handlers.h"
#include "fs/inode.h"

void
fs_reply_open(struct fs_req *r, struct op *op)
{
	struct fs_file *f = file_new(r->cls);

	if (f == NULL) {
		if (op->stream != NULL)
			op->stream->ops->release(op->stream);
		fuse_reply_err(r->req, ENOMEM);
		return;
	}
	if (r->cls == FC_STREAM) {
		f->stream = op->stream;
		op->stream = NULL;
		/* A stream with a size (stdout, stderr of a process here) is read at file
		 * offsets by tail and less; the others have no offsets. */
		if (f->stream->ops->size == NULL || f->stream->ops->size(f->stream, 0) < 0)
			r->fi.nonseekable = 1;
		else
			fs_inval_attr(r->dir->ino);	/* the size cached since lookup is old */
	} else {
		f->buf = op->data;
		f->len = op->len;
		op->data = NULL;
	}
	r->fi.direct_io = 1;
	r->fi.fh = (uintptr_t)f;
	f->ino = r->dir->ino;
	if (fuse_reply_open(r->req, &r->fi) != 0) {
		/* The caller is gone (no RELEASE will come): undo the open here. */
		file_free(f);
		return;
	}
	file_opened(f);
}

void
fs_ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct inode *in = inode_get(ino);
	struct stat st;

	if (in == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if (fs_is_sized(in)) {
		struct op *op = fs_new_op(req, OP_SNAP, in->dir, in->file);
		struct fs_req *r;
		if (op == NULL) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		if ((r = fs_req_start(req, op, R_GETATTR)) == NULL)
			return;
		r->dir = in;
		fs_req_go(r);
		return;
	}
	fs_fill_attr(in, &st);
	/* A getattr of an open file comes from lseek(SEEK_END) (fstat and stat come
	 * without one): the opener asks where a stream with a size ends, as tail does,
	 * so it reads at offsets from now on (elements/op.h, stream size). */
	if (fi != NULL && in->file != NULL && fs_is_stream_file(in->file)) {
		struct fs_file *f = (struct fs_file *)(uintptr_t)fi->fh;
		int64_t size;
		if (f != NULL && f->cls == FC_STREAM && f->stream->ops->size != NULL &&
		    (size = f->stream->ops->size(f->stream, 1)) >= 0)
			fs_set_size(&st, size);
	}
	fuse_reply_attr(req, &st, fs_attr_timeout(in));
}

void
fs_ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
    struct fuse_file_info *fi)
{
	/* Modes and owners are fixed (the mount is its owner's, mode 0700): chmod and
	 * chown fail rather than report a change that did not happen.  Truncation (O_TRUNC
	 * comes atomically with open) and times are meaningless on control files: accept
	 * them so `touch` and `: > ctl` behave. */
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	fs_ll_getattr(req, ino, fi);
}


void
fs_ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct inode *in = inode_get(ino);
	int acc = fi->flags & O_ACCMODE;
	struct fs_req *r;
	struct op *op;
	enum file_class cls;

	if (in == NULL || in->file == NULL) {
		fuse_reply_err(req, in == NULL ? ESTALE : EISDIR);
		return;
	}
	/* Directions are checked by the operation layer, so that a refusal gets its
	 * message in the anchor's error file and the log like any other failure. */
	if (fs_is_stream_file(in->file)) {
		cls = FC_STREAM;
		op = fs_new_op(req, OP_OPEN, in->dir, in->file);
	} else if (strcmp(in->file, "ctl") == 0 && acc == O_WRONLY) {
		/* A command writer needs no snapshot. */
		struct fs_file *f = file_new(FC_CTL);
		if (f == NULL) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		fi->direct_io = 1;
		fi->fh = (uintptr_t)f;
		if (fuse_reply_open(req, fi) != 0)
			file_free(f);
		else
			file_opened(f);
		return;
	} else {
		cls = strcmp(in->file, "ctl") == 0 ? FC_CTL : FC_SNAP;
		op = fs_new_op(req, OP_SNAP, in->dir, in->file);
	}
	if (op != NULL)
		op->mode = acc == O_RDONLY ? OP_RDONLY : acc == O_WRONLY ? OP_WRONLY : OP_RDWR;
	if (op == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if ((r = fs_req_start(req, op, R_OPEN)) == NULL)
		return;
	r->fi = *fi;
	r->cls = cls;
	r->dir = in;	/* held: the kernel forgets no inode it has open */
	fs_req_go(r);
}

void
fs_ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs_file *f = (struct fs_file *)(uintptr_t)fi->fh;
	struct fs_req *r;
	struct op *op;

	if (f->cls != FC_STREAM) {
		if (f->buf == NULL) {
			fuse_reply_err(req, EBADF);
			return;
		}
		if ((size_t)off >= f->len)
			fuse_reply_buf(req, NULL, 0);
		else
			fuse_reply_buf(req, f->buf + off, f->len - (size_t)off < size ?
			    f->len - (size_t)off : size);
		return;
	}
	/* A non-blocking reader (tail -f sets O_NONBLOCK) gets EAGAIN, not a wait. */
	if ((fi->flags & O_NONBLOCK) && f->stream->ops->poll != NULL &&
	    !(f->stream->ops->poll(f->stream) & POLLIN)) {
		fuse_reply_err(req, EAGAIN);
		return;
	}
	op = op_new(OP_READ, NULL, NULL);
	if (op == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	op->stream = f->stream;
	op->max = size;
	op->off = off;
	op->nonblock = (fi->flags & O_NONBLOCK) != 0;
	if ((r = fs_req_start(req, op, R_READ)) != NULL)
		fs_req_go(r);
}

void
fs_ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct fs_file *f = (struct fs_file *)(uintptr_t)fi->fh;
	struct inode *in = inode_get(ino);
	struct fs_req *r;
	struct op *op;

	if (f->cls == FC_SNAP || in == NULL) {
		fuse_reply_err(req, EBADF);
		return;
	}
	if (f->cls == FC_CTL)
		op = fs_new_op(req, OP_CTL, in->dir, NULL);
	else
		op = op_new(OP_WRITE, NULL, NULL);
	if (op == NULL || (op->data = malloc(size + 1)) == NULL) {
		op_free(op);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memcpy(op->data, buf, size);
	op->data[size] = '\0';
	op->len = size;
	if (f->cls == FC_STREAM)
		op->stream = f->stream;
	if ((r = fs_req_start(req, op, f->cls == FC_CTL ? R_CTL : R_WRITE)) == NULL)
		return;
	r->size = size;
	fs_req_go(r);
}

void
fs_ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_file *f = (struct fs_file *)(uintptr_t)fi->fh;
	struct fs_req *r;
	struct op *op;

	/* FLUSH comes on every close(), even before the first write: not "writer done".
	 * It is where close(2) learns of a write that failed after it was acknowledged
	 * (a remote stream writes behind): it waits for those answers, interruptibly. */
	if (f == NULL || f->stream == NULL || f->stream->ops->flush == NULL) {
		fuse_reply_err(req, 0);
		return;
	}
	if ((op = op_new(OP_FLUSH, NULL, NULL)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	op->stream = f->stream;
	if ((r = fs_req_start(req, op, R_FLUSH)) != NULL)
		fs_req_go(r);
}

void
fs_ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_file *f = (struct fs_file *)(uintptr_t)fi->fh;

	if (f != NULL)
		file_close(f);	/* end of a message, EOF of stdin */
	fuse_reply_err(req, 0);
}

void
fs_ll_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct fuse_pollhandle *ph)
{
	struct fs_file *f = (struct fs_file *)(uintptr_t)fi->fh;
	unsigned revents = POLLIN | POLLOUT;

	if (f->cls == FC_STREAM) {
		if (ph != NULL)
			file_set_poll(f, ph);
		if (f->stream->ops->poll != NULL)
			revents = (unsigned)f->stream->ops->poll(f->stream);
	} else if (ph != NULL) {
		fuse_pollhandle_destroy(ph);
	}
	fuse_reply_poll(req, revents);
}
