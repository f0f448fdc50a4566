/* proc.h - the process element (mkproc): a child process with stdin/stdout/stderr streams.
 *
 * Files: stdin (write; the last close closes the child's stdin), stdout and stderr
 * (read output as it is produced, each through a bounded buffer that back-pressures
 * the child), wait (blocks until exit, then the stat JSON), peek (stat JSON now).
 * Verb: signal NAME|NUMBER.  The child is spawned without ever touching a path of the
 * Cmd before exec (see FUSE-FACTS section 6): uv_spawn always runs the exec helper
 * (bin/circuit-exec, proc_exec.h), which changes directory and execs the program once
 * the loop runs again.
 */
#ifndef CIRCUIT_PROC_H
#define CIRCUIT_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "elements/cmd.h"
#include "elements/element.h"
#include "elements/proc_exec.h"

/* Most bytes of unread output held per stream (stdout, stderr) before back-pressure. */
#define PROC_OUT_CAP (256 * 1024)

extern const struct elem_kind proc_kind;

/* A program linking the process element also runs the exec helper (proc_exec.h) when
 * started as /proc/self/exe PROC_EXEC_FLAG ...: it passes argv on to the helper. */

/* The absolute path of the exec helper (circuit-exec in the directory of the running
 * program; found once, no search), or NULL if that directory cannot be read. */
const char *proc_exec_helper(void);

/* 0 if the exec helper is there and executable, else -errno (the server checks at
 * start, so a missing helper is said once and clearly). */
int proc_exec_check(void);

/* The files of a process element (also a container element's). */
extern const struct op_file proc_files[];

/* The stat JSON line ("{...}\n", malloc'd, length in *len) of a process running
 * (exited == 0) or ended with libuv's exit status and terminating signal; NULL if out of memory. */
char *proc_stat_text(const struct cmd *c, int pid, int exited, int64_t status, int sig,
    size_t *len);

/* Parse a signal given as a name (KILL, SIGKILL, kill) or a number: the number or -EINVAL. */
int proc_signal_parse(const char *s);

/* Children of process elements spawned and not yet reaped (shutdown waits for 0). */
int proc_running(void);

/* Bytes of unread output held now for fd 1 (stdout) or 2 (stderr) of process element e. */
size_t proc_buffered(const struct element *e, int fd);

#endif
