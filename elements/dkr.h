/* dkr.h - the container element (mkdkr): a docker container driven like a process.
 *
 * The server drives the engine through the docker command-line client, each command
 * a child process on the loop (docs/decisions.md says why): `docker create` makes the
 * container at mkdkr, `docker start -a -i` runs attached as a process element's child
 * (so stdin, stdout and stderr stream exactly as a process's do), `docker inspect`
 * answers peek and wait, `docker kill` signals and `docker rm -f` scrubs.  Every
 * container is labelled with this server's ID, host and PID, so that the next server
 * started on the host with -docker finds and removes what a crashed one left.
 */
#ifndef CIRCUIT_DKR_H
#define CIRCUIT_DKR_H

#include <stddef.h>

#include "elements/element.h"

extern const struct elem_kind dkr_kind;

/* Remove the containers that servers of this host which are no longer running left
 * behind (asynchronous; what it finds and does goes to the log). */
void dkr_sweep(void);

/* ---- the spec (dkr_spec.c) ---- */

/* Parse a container spec (the seed's JSON) into the argv of `docker create`, labels
 * included, ending with IMAGE [PATH ARGS...]; NULL-terminated, free with spec_strv_free
 * (elements/spec.h).
 * *scrub gets the Scrub field.  0, -EINVAL with one line in err, or -ENOMEM. */
int dkr_spec_parse(const char *text, const char *const *labels, char ***argv, int *scrub,
    char *err, size_t errsize);

/* ---- docker client commands (dkr_cli.c) ---- */

/* Most docker client commands running at once. */
#define DKR_CLI_MAX 32

/* Result of one command: status is its exit code, or -errno (-ETIMEDOUT past the
 * deadline, -EINTR killed by a signal, -E2BIG output past the cap); out holds its
 * stdout (NUL-terminated, outlen bytes), err the start of its stderr. */
typedef void (*dkr_cli_cb)(void *arg, int status, char *out, size_t outlen, char *err);

/* Run argv (argv[0] = "docker", found in PATH) with stdin from /dev/null; cb runs
 * once from the loop when it has ended and its output is read.  0, or -errno and cb
 * never runs (-EAGAIN: DKR_CLI_MAX already running). */
int dkr_cli_run(char **argv, unsigned timeout_ms, dkr_cli_cb cb, void *arg);

/* Remove container id (docker rm --force) once fewer than DKR_CLI_MAX commands run,
 * together with any others waiting; failures go to the log.  0 or -ENOMEM. */
int dkr_cli_remove_later(const char *id);

/* The errno the engine's words on stderr stand for: -ECONNREFUSED engine not
 * running, -EACCES no permission on its socket, -ENOENT no such image or container,
 * -ESRCH not running, else -EINVAL. */
int dkr_cli_errno(int status, const char *err);

/* The first line of err, trimmed, for a one-line message (modifies err). */
const char *dkr_cli_words(char *err);

#endif
