/* file.h - the FUSE layer's open files: per-open state and poll notification.
 *
 * Every file the kernel holds open is on one list, because no RELEASE comes after an
 * unmount: shutdown releases what is left.  Poll readiness changes are queued and
 * notified from the loop, never inside a FUSE handler.
 */
#ifndef CIRCUIT_FS_FILE_H
#define CIRCUIT_FS_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct fuse_pollhandle;
struct stream;

struct json_t;

enum file_class { FC_SNAP, FC_STREAM, FC_CTL, FC_DIR };

/* Per-open state, in fi->fh. */
struct fs_file {
	enum file_class cls;
	char *buf;			/* FC_SNAP / FC_CTL read: the snapshot */
	size_t len;
	struct stream *stream;		/* FC_STREAM */
	uint64_t ino;			/* the file's inode */
	struct json_t *list;		/* FC_DIR: the OP_LIST result, until RELEASEDIR */
	struct fuse_pollhandle *ph;	/* newest poll handle */
	int notify_queued;
	TAILQ_ENTRY(fs_file) nlink;	/* the notification queue */
	TAILQ_ENTRY(fs_file) olink;	/* the open files, until RELEASE */
};

/* A new, not yet opened file of class cls, or NULL. */
struct fs_file *file_new(enum file_class cls);

/* The kernel has the file (its open was answered): list it. */
void file_opened(struct fs_file *f);

/* RELEASE or RELEASEDIR: unlist f, release its stream (end of a message, EOF of stdin), free it. */
void file_close(struct fs_file *f);

/* Free a file that was never listed (its open reply failed), releasing its stream. */
void file_free(struct fs_file *f);

/* The size of the stream file ino as its newest open with a size says (stdout of a
 * running process: the bytes produced so far), or -1 if no such open is listed. */
int64_t file_stream_size(uint64_t ino);

/* Keep ph as the newest poll handle of stream file f and notify it on changes. */
void file_set_poll(struct fs_file *f, struct fuse_pollhandle *ph);

#endif
