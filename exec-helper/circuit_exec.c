/* circuit_exec.c - bin/circuit-exec, the exec helper: the program uv_spawn runs for
 * every process element (elements/proc_spawn.c).
 *
 * uv_spawn blocks the server's loop until its child has exec'd, so that child must not
 * touch any path of the Cmd (Dir, a PATH search, a symlink could all lead into the
 * server's own mount: a deadlock).  It execs this helper instead, by an absolute path
 * outside any mount; the helper changes to Dir, searches PATH and execs the program
 * once the loop runs again, and reports a failure on the pipe (elements/proc_exec.h).
 * It is static and uses libc only: it runs before every process, and loading the
 * server's own libraries for it cost more than the program it starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "elements/proc_exec.h"

int
main(int argc, char **argv)
{
	struct stat st;

	if (argc < 4 || strcmp(argv[1], PROC_EXEC_FLAG) != 0 ||
	    fstat(PROC_EXEC_FD, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		fputs("circuit-exec: the exec helper runs only inside a circuit server\n", stderr);
		return 2;
	}
	/* The report pipe closes at exec, so the server reads end of file: success.
	 * Nothing else of the server's reaches the program, whatever it forgot to mark
	 * close-on-exec: the program sees its stdin, stdout and stderr only. */
	if (fcntl(PROC_EXEC_FD, F_SETFD, FD_CLOEXEC) < 0)
		proc_exec_fail('X', errno);
	close_range(PROC_EXEC_FD + 1, ~0U, 0);
	if (argv[2][0] != '\0' && chdir(argv[2]) < 0)
		proc_exec_fail('D', errno);
	execvp(argv[3], argv + 3);
	proc_exec_fail('X', errno);
}
