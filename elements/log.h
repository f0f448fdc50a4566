/* log.h - the diagnostic log (stderr) and the server's operation log (the `log` file).
 *
 * Diagnostics follow OpenBSD's small fixed set.  The operation log holds one line per
 * operation in execution order: time, client, anchor, verb, result.  It is kept in a
 * bounded in-memory ring that `log` readers follow, and appended to VAR/log when the
 * server has a -var directory.
 */
#ifndef CIRCUIT_LOG_H
#define CIRCUIT_LOG_H

#include <stddef.h>

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

void log_init(const char *progname, int verbose);
void log_info(const char *fmt, ...) LOG_FMT(1, 2);
void log_debug(const char *fmt, ...) LOG_FMT(1, 2);
/* A warning with strerror(errno) appended. */
void log_warn(const char *fmt, ...) LOG_FMT(1, 2);
/* A warning without errno. */
void log_warnx(const char *fmt, ...) LOG_FMT(1, 2);
/* Our own bug or an impossible start-up: print and exit(1). */
void fatalx(const char *fmt, ...) LOG_FMT(1, 2) __attribute__((noreturn));

/* Longest error message kept (an anchor's `error`, a log line's message), and longest
 * log line, in bytes once escaped. */
#define LOG_MSG_MAX	256
#define LOG_LINE_MAX	1024

/* Outside text made safe for one line of the log or of an `error` file (malloc'd, or
 * NULL): control bytes, DEL, C1 controls and bytes that are not well-formed UTF-8 are
 * escaped (\n \r \t \xNN), so none reaches a terminal raw; longer than max bytes,
 * it keeps its head and its tail around "...".  Clean text comes back unchanged. */
char *log_clean(const char *text, size_t max);

/* Append one operation to the operation log: rc < 0 prints the errno name and msg. */
void oplog(const char *client, const char *path, const char *verb, int rc, const char *msg);

/* Also append every line to the file at path (the -var directory's log). */
int oplog_open_file(const char *path);

/* Append a free-form line (already formatted, no newline) to the operation log; it is
 * escaped and bounded by log_clean(line, LOG_LINE_MAX). */
void oplog_line(const char *line);

/* Log stream support: the ring as a sequence of bytes numbered from 0. */
size_t oplog_end(void);			/* total bytes ever appended */
size_t oplog_start(void);		/* oldest byte still held */
/* Copy up to max bytes from position pos (clamped to oplog_start); returns bytes. */
size_t oplog_copy(size_t *pos, char *buf, size_t max);
/* Register a function called after each append (the log element wakes readers). */
void oplog_on_append(void (*fn)(void));

#endif
