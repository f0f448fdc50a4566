/* handlers.c - FUSE low-level handlers of the tree: lookups, directories, the waiting
 * requests and their replies, and the handler table (the open files' handlers are
 * io.c's).
 *
 * A handler validates, builds an op and starts it through fs_req_start(); the op's
 * completion (done()) is the one place that replies.  Interrupts only cancel the op
 * (op_cancel never completes synchronously), so the reply still comes from done(),
 * once, as lib9p's flush rule has it.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "elements/anchor.h"
#include "elements/log.h"
#include "elements/op.h"
#include "elements/server.h"
#include "fs/file.h"
#include "fs/fs.h"
#include "fs/handlers.h"
#include "fs/inode.h"

#define STREAM_BLKSIZE	(1 << 20)	/* so cat and cp move 1 MiB per request */
#define ENTRY_TIMEOUT	1.0

static TAILQ_HEAD(, fs_req) pending = TAILQ_HEAD_INITIALIZER(pending);
static int npending;

/* ---- attributes ---- */

/* Is f (a control file's name) a stream, as its element kind declares it? */
int
fs_is_stream_file(const char *name)
{
	const struct op_file *f = op_file_find(name);

	return f != NULL && (f->flags & OPF_STREAM);
}

/* The permission bits of a control file: its declared direction. */
static mode_t
file_perm(const char *name)
{
	const struct op_file *f = op_file_find(name);
	mode_t m = 0;

	if (f != NULL && (f->flags & OPF_READ))
		m |= 0400;
	if (f != NULL && (f->flags & OPF_WRITE))
		m |= 0200;
	return m;
}

/* Files whose size getattr reports truly, by taking their snapshot: short texts that
 * `test -s`, `wc -c` and editors look at.  Other snapshots (peek, wait) report 0 and
 * are taken at open: wait blocks, peek changes (docs/decisions.md). */
int
fs_is_sized(const struct inode *in)
{
	return in->file != NULL && (strcmp(in->file, "help") == 0 || strcmp(in->file, "error") == 0);
}

/* How long the kernel may keep a file's attributes: not at all for those that change
 * under it (the log's size, a stream's with a size while it is open, help and error,
 * whose size getattr takes fresh).  Other streams keep theirs: `cat recv` costs no
 * GETATTR. */
double
fs_attr_timeout(const struct inode *in)
{
	if (in->file == NULL)
		return ENTRY_TIMEOUT;
	if (strcmp(in->file, "log") == 0 || fs_is_sized(in))
		return 0;
	return fs_is_stream_file(in->file) && file_stream_size(in->ino) >= 0 ? 0 : ENTRY_TIMEOUT;
}

/* Report size bytes, in as many blocks: a file with fewer blocks than its size looks
 * sparse, and cp then copies only the extents that size says exist. */
void
fs_set_size(struct stat *st, int64_t size)
{
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
}

void
fs_fill_attr(const struct inode *in, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = in->ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_atime = st->st_mtime = st->st_ctime = g_server.joined;
	if (in->file == NULL) {
		st->st_mode = S_IFDIR | 0700;
		st->st_nlink = 2;
		return;
	}
	st->st_nlink = 1;
	st->st_mode = S_IFREG | file_perm(in->file);
	if (fs_is_stream_file(in->file))
		st->st_blksize = STREAM_BLKSIZE;
	/* The log's size grows with it, so that `tail -f` sees it change, and is never
	 * more than a reader gets (server_log_size).  Another server's log size is not
	 * known here without a round trip: report a size no log reaches, so tail never
	 * thinks it was truncated (it would try to seek). */
	if (strcmp(in->file, "log") == 0) {
		fs_set_size(st, strcmp(in->dir + 1, g_server.id) == 0 ? (int64_t)server_log_size() :
		    (int64_t)1 << 40);
		st->st_mtime = time(NULL);
	} else if (fs_is_stream_file(in->file)) {
		/* A stream with a size (stdout of a process here: the bytes produced so
		 * far) reports it while it is open, so that tail -f sees it grow. */
		int64_t size = file_stream_size(in->ino);
		if (size >= 0) {
			fs_set_size(st, size);
			st->st_mtime = time(NULL);
		}
	}
}

static void
reply_entry(fuse_req_t req, struct inode *in)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof e);
	e.ino = in->ino;
	e.generation = 1;
	fs_fill_attr(in, &e.attr);
	e.entry_timeout = ENTRY_TIMEOUT;
	e.attr_timeout = fs_attr_timeout(in);
	if (fuse_reply_entry(req, &e) == 0)
		in->nlookup++;
	else if (in->nlookup == 0)
		inode_forget(in, 0);	/* the kernel never got it: nobody will forget it */
}

/* ---- pending requests ---- */

static char *
client_of(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	char *s;

	if (asprintf(&s, "fuse:%d", ctx != NULL ? (int)ctx->pid : 0) < 0)
		return NULL;
	return s;
}

static void done(struct op *op);

static void
on_interrupt(fuse_req_t req, void *data)
{
	struct fs_req *r = data;

	/* Only cancel: the reply comes from done(), queued by the op layer. */
	if (r->op != NULL)
		op_cancel(r->op, -EINTR);
}

struct fs_req *
fs_req_start(fuse_req_t req, struct op *op, enum req_what what)
{
	struct fs_req *r = calloc(1, sizeof *r);

	if (r == NULL) {
		op_free(op);
		fuse_reply_err(req, ENOMEM);
		return NULL;
	}
	r->req = req;
	r->op = op;
	r->what = what;
	op->cb = done;
	op->arg = r;
	if (op->client == NULL)
		op->client = client_of(req);
	TAILQ_INSERT_TAIL(&pending, r, link);
	npending++;
	return r;
}

/* Run the op of r; register for interrupts only once the record is complete. */
void
fs_req_go(struct fs_req *r)
{
	op_start(r->op);
	fuse_req_interrupt_func(r->req, on_interrupt, r);
}

/* Start op (NULL: out of memory) for the child name of dir, answered as what. */
static void
start_named(fuse_req_t req, struct op *op, enum req_what what, struct inode *dir,
    const char *name)
{
	struct fs_req *r;

	char *copy = strdup(name);

	if (op == NULL || copy == NULL) {
		op_free(op);
		free(copy);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if ((r = fs_req_start(req, op, what)) == NULL) {
		free(copy);
		return;
	}
	r->dir = dir;
	r->name = copy;
	fs_req_go(r);
}

struct op *
fs_new_op(fuse_req_t req, enum op_type t, const char *path, const char *file)
{
	struct op *op = op_new(t, NULL, NULL);

	if (op == NULL)
		return NULL;
	op->path = path != NULL ? strdup(path) : NULL;
	op->file = file != NULL ? strdup(file) : NULL;
	if ((path != NULL && op->path == NULL) || (file != NULL && op->file == NULL)) {
		op_free(op);
		return NULL;
	}
	return op;
}

static char *
child_path(const struct inode *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s%s%s", dir->path, strcmp(dir->path, "/") == 0 ? "" : "/", name) < 0)
		return NULL;
	return p;
}

static int
json_has_string(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

static void
done(struct op *op)
{
	struct fs_req *r = op->arg;
	fuse_req_t req = r->req;
	struct inode *in;

	/* Each request is answered once: its op completes once, and a request answered
	 * at shutdown (req NULL) is no longer listed. */
	assert(r->op == op);
	r->op = NULL;
	if (req == NULL) {
		/* Answered (EHOSTDOWN) and unlisted at shutdown already; an open that
		 * succeeded this late has nobody to release its stream but us. */
		if (r->what == R_OPEN && op->rc >= 0 && op->stream != NULL) {
			op->stream->ops->release(op->stream);
			op->stream = NULL;
		}
		free(r->name);
		free(r);
		return;
	}
	TAILQ_REMOVE(&pending, r, link);
	npending--;
	if (op->rc < 0) {
		/* An open that failed after being handed a stream cannot happen: ops
		 * complete with either a stream or an error. */
		fuse_reply_err(req, -op->rc);
		goto out;
	}
	switch (r->what) {
	case R_LOOKUP:
		if (r->name != NULL && anchor_name_reserved(r->name) && strcmp(r->dir->path, "/") != 0) {
			/* A control file: it exists if the anchor lists it. */
			if (!json_has_string(json_object_get(op->json, "files"), r->name)) {
				fuse_reply_err(req, ENOENT);
				break;
			}
			in = inode_intern(r->dir->path, r->name);
		} else {
			char *p = child_path(r->dir, r->name);
			in = p != NULL ? inode_intern(p, NULL) : NULL;
			free(p);
		}
		if (in == NULL)
			fuse_reply_err(req, ENOMEM);
		else
			reply_entry(req, in);
		break;
	case R_GETATTR: {
		struct stat st;
		/* The inode is held: the kernel forgets none while a getattr of it runs. */
		fs_fill_attr(r->dir, &st);
		st.st_size = (off_t)op->len;
		fuse_reply_attr(req, &st, 0);
		break;
	}
	case R_MKDIR: {
		char *p = child_path(r->dir, r->name);
		in = p != NULL ? inode_intern(p, NULL) : NULL;
		free(p);
		if (in == NULL)
			fuse_reply_err(req, ENOMEM);
		else
			reply_entry(req, in);
		break;
	}
	case R_FLUSH:
		fuse_reply_err(req, 0);
		break;
	case R_RMDIR: {
		char *p = child_path(r->dir, r->name);
		if (p != NULL)
			inode_unlink_dir(p);
		free(p);
		fuse_reply_err(req, 0);
		break;
	}
	case R_OPENDIR: {
		/* An open directory is an open file: unmount frees what no RELEASEDIR did. */
		struct fs_file *d = file_new(FC_DIR);
		if (d == NULL) {
			fuse_reply_err(req, ENOMEM);
			break;
		}
		d->list = op->json;
		op->json = NULL;
		r->fi.fh = (uintptr_t)d;
		if (fuse_reply_open(req, &r->fi) != 0)
			file_free(d);
		else
			file_opened(d);
		break;
	}
	case R_OPEN:
		fs_reply_open(r, op);
		break;
	case R_READ:
		fuse_reply_buf(req, op->data, op->len);
		break;
	case R_WRITE:
		fuse_reply_write(req, (size_t)op->rc);
		break;
	case R_CTL:
		fuse_reply_write(req, r->size);
		break;
	}
out:
	free(r->name);
	free(r);
}

void
fs_fail_pending(void)
{
	struct fs_req *r;

	/* This server is going: every waiting request fails with EHOSTDOWN, the errno of
	 * an owner gone mid-operation (SPEC), never with EINTR, which SPEC keeps for a
	 * signal.  The cancel carries that errno: parked ops (and remote ones that end at
	 * once) complete with it, through done(); remote reads and writes that wait for
	 * their owner's answer are answered here, and their late completion finds
	 * req == NULL. */
	TAILQ_FOREACH(r, &pending, link)
		if (r->op != NULL)
			op_cancel(r->op, -EHOSTDOWN);
	op_drain();
	while ((r = TAILQ_FIRST(&pending)) != NULL) {
		TAILQ_REMOVE(&pending, r, link);
		npending--;
		assert(r->req != NULL);
		fuse_reply_err(r->req, EHOSTDOWN);
		r->req = NULL;
	}
}

int
fs_pending_count(void)
{
	return npending;
}

/* ---- handlers ---- */

static void
fs_ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct inode *dir = inode_get(parent), *in;
	struct op *op;
	char *p;

	if (dir == NULL || dir->file != NULL) {
		fuse_reply_err(req, dir == NULL ? ESTALE : ENOTDIR);
		return;
	}
	if (strcmp(dir->path, "/") == 0 && strcmp(name, "help") == 0) {
		in = inode_intern("/", "help");
		if (in == NULL)
			fuse_reply_err(req, ENOMEM);
		else
			reply_entry(req, in);
		return;
	}
	if (strcmp(dir->path, "/") != 0 && anchor_name_reserved(name)) {
		op = fs_new_op(req, OP_STAT, dir->path, NULL);
	} else {
		if (!anchor_name_ok(name)) {
			fuse_reply_err(req, ENOENT);
			return;
		}
		p = child_path(dir, name);
		op = p != NULL ? fs_new_op(req, OP_STAT, p, NULL) : NULL;
		free(p);
	}
	start_named(req, op, R_LOOKUP, dir, name);
}

static void
fs_ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct inode *in = inode_get(ino);

	if (in != NULL)
		inode_forget(in, nlookup);
	fuse_reply_none(req);
}

static void
fs_ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++) {
		struct inode *in = inode_get(forgets[i].ino);
		if (in != NULL)
			inode_forget(in, forgets[i].nlookup);
	}
	fuse_reply_none(req);
}

static void
child_op(fuse_req_t req, fuse_ino_t parent, const char *name, enum op_type t,
    enum req_what what)
{
	struct inode *dir = inode_get(parent);
	struct op *op;
	char *p;

	if (dir == NULL || dir->file != NULL) {
		fuse_reply_err(req, dir == NULL ? ESTALE : ENOTDIR);
		return;
	}
	p = child_path(dir, name);
	op = p != NULL ? fs_new_op(req, t, p, NULL) : NULL;
	free(p);
	start_named(req, op, what, dir, name);
}

static void
fs_ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	child_op(req, parent, name, OP_MKDIR, R_MKDIR);
}

static void
fs_ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	child_op(req, parent, name, OP_RMDIR, R_RMDIR);
}

static void
fs_ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	/* Control files come and go with their element: scrub or rmdir instead. */
	fuse_reply_err(req, EPERM);
}

static void
fs_ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	/* Only the element's own files exist here; a new name is an error (a typo of
	 * `send` must not silently create something). */
	fuse_reply_err(req, anchor_name_reserved(name) ? ENOENT : EPERM);
}

static void
fs_ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	fuse_reply_err(req, anchor_name_reserved(name) ? ENOENT : EPERM);
}

static void
fs_ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
    const char *newname, unsigned int flags)
{
	fuse_reply_err(req, EPERM);
}

static void
fs_ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	/* The tree holds anchors and their control files only, as for create; without
	 * this handler `ln -s` said "Function not implemented". */
	fuse_reply_err(req, EPERM);
}

static void
fs_ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	fuse_reply_err(req, EPERM);
}

static void
fs_ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct inode *in = inode_get(ino);
	struct fs_req *r;
	struct op *op;

	if (in == NULL || in->file != NULL) {
		fuse_reply_err(req, in == NULL ? ESTALE : ENOTDIR);
		return;
	}
	op = fs_new_op(req, OP_LIST, in->path, NULL);
	if (op == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if ((r = fs_req_start(req, op, R_OPENDIR)) == NULL)
		return;
	r->fi = *fi;
	fs_req_go(r);
}

/* Add entry number idx of the listing d (".", "..", anchors, files) to buf. */
static size_t
add_entry(fuse_req_t req, struct fs_file *d, size_t idx, char *buf, size_t size)
{
	json_t *anchors = json_object_get(d->list, "anchors");
	json_t *files = json_object_get(d->list, "files");
	size_t na = json_array_size(anchors), nf = json_array_size(files);
	struct stat st;
	const char *name;

	memset(&st, 0, sizeof st);
	if (idx < 2) {
		name = idx == 0 ? "." : "..";
		st.st_mode = S_IFDIR;
	} else if (idx - 2 < na) {
		name = json_string_value(json_array_get(anchors, idx - 2));
		st.st_mode = S_IFDIR;
	} else if (idx - 2 - na < nf) {
		name = json_string_value(json_array_get(files, idx - 2 - na));
		st.st_mode = S_IFREG;
	} else {
		return 0;
	}
	if (name == NULL)
		name = "?";
	/* d_ino must not be 0 (readdir(3) may skip it); the kernel does not trust it. */
	st.st_ino = 2 + idx;
	return fuse_add_direntry(req, buf, size, name, &st, (off_t)idx + 1);
}

static void
fs_ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs_file *d = (struct fs_file *)(uintptr_t)fi->fh;
	char *buf = malloc(size);
	size_t used = 0, n;

	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t idx = (size_t)off;; idx++) {
		n = add_entry(req, d, idx, buf + used, size - used);
		if (n == 0 || n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void
fs_ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_file *d = (struct fs_file *)(uintptr_t)fi->fh;

	if (d != NULL)
		file_close(d);
	fuse_reply_err(req, 0);
}

static void
fs_ll_init(void *userdata, struct fuse_conn_info *conn)
{
	/* Lookups and readdirs of one directory run in parallel: a lookup that waits on
	 * a slow server must not hold the directory's lock against every other one. */
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
}

static void
fs_ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st;

	memset(&st, 0, sizeof st);
	st.f_bsize = 4096;
	st.f_namemax = 255;
	fuse_reply_statfs(req, &st);
}

const struct fuse_lowlevel_ops fs_ops = {
	.init = fs_ll_init,
	.lookup = fs_ll_lookup,
	.forget = fs_ll_forget,
	.forget_multi = fs_ll_forget_multi,
	.getattr = fs_ll_getattr,
	.setattr = fs_ll_setattr,
	.mkdir = fs_ll_mkdir,
	.rmdir = fs_ll_rmdir,
	.unlink = fs_ll_unlink,
	.create = fs_ll_create,
	.mknod = fs_ll_mknod,
	.rename = fs_ll_rename,
	.symlink = fs_ll_symlink,
	.link = fs_ll_link,
	.opendir = fs_ll_opendir,
	.readdir = fs_ll_readdir,
	.releasedir = fs_ll_releasedir,
	.open = fs_ll_open,
	.read = fs_ll_read,
	.write = fs_ll_write,
	.flush = fs_ll_flush,
	.release = fs_ll_release,
	.poll = fs_ll_poll,
	.statfs = fs_ll_statfs,
};
