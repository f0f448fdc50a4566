/* proc_exec.h - the exec helper's contract: how the server runs a process element's
 * program through bin/circuit-exec (exec-helper/circuit_exec.c), and how the helper
 * reports a failure.  Header-only: the helper is a static libc-only program and links
 * nothing of the server.
 */
#ifndef CIRCUIT_PROC_EXEC_H
#define CIRCUIT_PROC_EXEC_H

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

/* argv of the helper: NAME PROC_EXEC_FLAG DIR PATH [ARGS...], and fd PROC_EXEC_FD the
 * report pipe.  It changes to DIR (if not ""), execs PATH with ARGS (PATH searched on
 * its PATH when it has no slash), or writes a struct proc_exec_report on the pipe and
 * exits 127.  The pipe is close-on-exec, so end of file without a word means the
 * program was exec'd. */
#define PROC_EXEC_FLAG "--circuit-exec-helper"
#define PROC_EXEC_FD 3
/* The helper's file name, in the directory of the server's own program. */
#define PROC_EXEC_NAME "circuit-exec"

/* The helper's word on the report pipe: which step failed and its errno. */
struct proc_exec_report {
	int32_t step;		/* 'D': chdir to Dir, 'X': exec of Path */
	int32_t err;
};

/* Report a failed step on the pipe and end the helper. */
static inline void __attribute__((noreturn))
proc_exec_fail(char step, int err)
{
	struct proc_exec_report r = { step, err };
	ssize_t n;

	do
		n = write(PROC_EXEC_FD, &r, sizeof r);
	while (n < 0 && errno == EINTR);
	_exit(127);
}

#endif
