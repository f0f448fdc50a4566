/* file.c - the FUSE layer's open files: the open list and poll notification. */
#include <stdlib.h>

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "elements/op.h"
#include "fs/file.h"
#include "fs/fs.h"

static TAILQ_HEAD(, fs_file) notifyq = TAILQ_HEAD_INITIALIZER(notifyq);
static TAILQ_HEAD(fs_files, fs_file) openq = TAILQ_HEAD_INITIALIZER(openq);
static uv_idle_t notify_idle;
static int notify_running, notify_ready;

struct fs_file *
file_new(enum file_class cls)
{
	struct fs_file *f = calloc(1, sizeof *f);

	if (f != NULL)
		f->cls = cls;
	return f;
}

void
file_opened(struct fs_file *f)
{
	TAILQ_INSERT_TAIL(&openq, f, olink);
}

int64_t
file_stream_size(uint64_t ino)
{
	struct fs_file *f;

	TAILQ_FOREACH_REVERSE(f, &openq, fs_files, olink)
		if (f->ino == ino && f->stream != NULL && f->stream->ops->size != NULL)
			return f->stream->ops->size(f->stream, 0);
	return -1;
}

static void
notify_drain(uv_idle_t *h)
{
	struct fs_file *f;

	while ((f = TAILQ_FIRST(&notifyq)) != NULL) {
		TAILQ_REMOVE(&notifyq, f, nlink);
		f->notify_queued = 0;
		if (f->ph != NULL)
			fuse_lowlevel_notify_poll(f->ph);
	}
	uv_idle_stop(&notify_idle);
	notify_running = 0;
}

static void
on_stream_notify(struct stream *s, void *arg)
{
	struct fs_file *f = arg;

	/* After fs_notify_fini (shutdown: scrubs wake streams still open) the idle
	 * handle is closing and the session gone: nobody is left to notify. */
	if (!notify_ready || f->ph == NULL || f->notify_queued)
		return;
	f->notify_queued = 1;
	TAILQ_INSERT_TAIL(&notifyq, f, nlink);
	if (!notify_running) {
		notify_running = 1;
		uv_idle_start(&notify_idle, notify_drain);
	}
}

void
file_set_poll(struct fs_file *f, struct fuse_pollhandle *ph)
{
	if (f->ph != NULL)
		fuse_pollhandle_destroy(f->ph);
	f->ph = ph;
	f->stream->notify = on_stream_notify;
	f->stream->notify_arg = f;
}

void
file_free(struct fs_file *f)
{
	if (f->notify_queued) {
		TAILQ_REMOVE(&notifyq, f, nlink);
		f->notify_queued = 0;
	}
	if (f->ph != NULL)
		fuse_pollhandle_destroy(f->ph);
	if (f->stream != NULL)
		f->stream->ops->release(f->stream);
	json_decref(f->list);
	free(f->buf);
	free(f);
}

void
file_close(struct fs_file *f)
{
	TAILQ_REMOVE(&openq, f, olink);
	file_free(f);
}

int
fs_notify_init(uv_loop_t *loop)
{
	notify_ready = 1;
	return uv_idle_init(loop, &notify_idle);
}

void
fs_notify_fini(void)
{
	struct fs_file *f;

	if (!notify_ready)
		return;
	/* The session goes next and no RELEASE will come: release what is still open.
	 * Its writers did not close it: what they wrote is cut short (a message sent to
	 * another server must not pass for complete there). */
	while ((f = TAILQ_FIRST(&openq)) != NULL) {
		if (f->stream != NULL)
			f->stream->aborted = 1;
		file_close(f);
	}
	TAILQ_INIT(&notifyq);
	uv_idle_stop(&notify_idle);
	uv_close((uv_handle_t *)&notify_idle, NULL);
	notify_running = notify_ready = 0;
}
