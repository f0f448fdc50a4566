/* window.h - the flow-control windows of a remote stream: one definition for the
 * servers (net/rstream.c) and the client library (net/client.c), docs/protocol.md.
 *
 * Read-ahead: once a byte has been delivered, requests of up to a frame are kept in
 * flight while the bytes asked for and not yet delivered stay under RA_WINDOW.
 * Write-behind: writes completed early stay under WB_WINDOW bytes and WB_MAXREQ
 * requests (small writes cost a request each), one always allowed.
 */
#ifndef CIRCUIT_NET_WINDOW_H
#define CIRCUIT_NET_WINDOW_H

#include <stddef.h>

#include "net/frame.h"

#define RA_WINDOW	(4u << 20)
#define RA_MIN		(64u << 10)	/* smaller gaps are not worth a request */
#define WB_WINDOW	(4u << 20)
#define WB_MAXREQ	64

/* How many bytes to ask for next, with budget bytes asked and not yet delivered:
 * 0 when the window is full. */
static inline size_t
ra_next(size_t budget)
{
	size_t n;

	if (budget + RA_MIN > RA_WINDOW)
		return 0;
	n = RA_WINDOW - budget;
	return n > FRAME_DATA_MAX ? FRAME_DATA_MAX : n;
}

/* The size of a stream's next read request, its reader wanting want bytes now (0:
 * none waits), with queued requests asked or answered and not yet delivered, and
 * budget bytes in them.  Before the first byte is delivered, and after EOF or an error
 * (stop), one request at a time, of the reader's own size; else the window's worth.
 * 0: ask nothing now. */
static inline size_t
ra_ask(int delivered, int stop, int queued, size_t budget, size_t want)
{
	if (!delivered || stop)
		return queued ? 0 : want;
	return ra_next(budget);
}

/* May a write of len bytes go behind now, with n writes of bytes bytes in flight? */
static inline int
wb_fits(int n, size_t bytes, size_t len)
{
	return n == 0 || (bytes + len <= WB_WINDOW && n < WB_MAXREQ);
}

#endif
