/* cli.h - the client commands of `circuit` (ls, peek, mkproc, send, ...).
 *
 * Each command is a thin front-end to the client library (net/client.h): it checks
 * its arguments, dials in only when it needs the cluster, runs one or a few blocking
 * calls and prints the result.  A command returns the process exit status: 0 on
 * success, 1 when an operation failed, 2 on a usage error; every failure prints one
 * line "circuit CMD: message" on stderr.
 */
#ifndef CIRCUIT_CLI_H
#define CIRCUIT_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cmd/flag.h"

struct circuit;
struct circuit_stream;
struct cli;

/* Exit statuses. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Flags a command accepts beyond the dial-in ones (-d, -hmac, -discover, -h). */
enum { CLI_FLAG_LONG = 1 };

/* The flags of every client command, indexes into cli_flags (cli_table.c): the one
 * table that both parses the command line and prints the Flags section of the help. */
enum {
	CLI_F_DIAL,
	CLI_F_DISCOVER,
	CLI_F_HMAC,
	CLI_F_INSECURE,
	CLI_F_LONG,
	CLI_F_HELP,
	CLI_NFLAGS
};
extern const struct flag cli_flags[CLI_NFLAGS];

struct cli_cmd {
	const char *name;
	const char *args;		/* synopsis of the positional arguments */
	int min, max;			/* how many positional arguments (max -1: any) */
	int flags;			/* CLI_FLAG_* accepted */
	int dials;			/* needs a dial-in */
	int (*run)(struct cli *c);
	const char *summary;		/* one line for `circuit help` */
	const char *help;		/* what `circuit CMD -h` adds, with an example */
};

/* One invocation: the parsed command line and the connection, dialed on first use. */
struct cli {
	const struct cli_cmd *cmd;
	char **args;			/* positional arguments after the command name */
	int nargs;
	const char *url;		/* -d URL */
	const char *hmac;		/* -hmac FILE */
	int insecure;			/* -insecure: no key (the server runs without) */
	int discover;			/* -discover was given */
	const char *discover_addr;	/* its MCAST:PORT, or NULL for the default */
	int long_list;			/* -l */
	struct circuit *conn;
};

/* ---- cli.c: the command line, dial-in and errors ---- */

/* Run the client command line argv[1..]; returns the exit status. */
int cli_main(int argc, char **argv);

/* The connection to the dial-in server, dialed on the first call; NULL after printing
 * why (no dial-in given, bad URL, refused, ...). */
struct circuit *cli_conn(struct cli *c);

/* Print "circuit CMD: msg (strerror)" for a failed call (rc < 0), free msg and
 * return CLI_FAIL; what names the operation when msg is NULL. */
int cli_fail(struct cli *c, int rc, char *msg, const char *what);

/* Print "circuit CMD: ..." (printf format) and return status. */
int cli_error(struct cli *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Print a usage error with the command's synopsis, on one line; returns CLI_USAGE. */
int cli_usage(struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Check an anchor path argument and give its canonical form in buf (no trailing or
 * doubled slashes); prints a usage error and returns -1 if it is not a path. */
int cli_path(struct cli *c, const char *arg, char *buf, size_t size);

/* Read all of standard input (at most max bytes) into a malloc'd, NUL-terminated
 * buffer; 0 or a CLI_* status after printing why. */
int cli_read_stdin(struct cli *c, size_t max, char **out, size_t *len);

/* Write all of buf to fd, retrying short writes; 0 or -errno. */
int cli_write_all(int fd, const void *buf, size_t len);

/* ---- cli_table.c: the commands and their help ---- */

/* The command named name, or NULL. */
const struct cli_cmd *cli_find(const char *name);

/* Print the list of commands (`circuit help`) on f. */
void cli_help_all(FILE *f);

/* Print one command's help (`circuit CMD -h`) on stdout. */
void cli_help_cmd(const struct cli_cmd *cmd);

int cli_help(struct cli *c);
int cli_keygen(struct cli *c);

/* ---- cli_tree.c: anchors ---- */

/* Create path and every missing anchor above it (like mkdir -p); *created counts the
 * anchors made, so a caller can undo them with cli_unmake.  0 or -errno (+ msg). */
int cli_mkdirs(struct cli *c, const char *path, int *created, char **msg);

/* Remove the created deepest anchors of path made by cli_mkdirs (best effort). */
void cli_unmake(struct cli *c, const char *path, int created);

/* Pretty-print JSON text on stdout (text that is not JSON is printed as it is). */
int cli_print_json(const char *text, size_t len);

/* Print the snapshot file of path (peek, wait) as JSON; returns the exit status. */
int cli_print_snap(struct cli *c, const char *path, const char *file);

int cli_ls(struct cli *c);
/* peek, wait: print the snapshot file the command is named after as JSON. */
int cli_snap(struct cli *c);
int cli_scrub(struct cli *c);
int cli_stk(struct cli *c);

/* ---- cli_make.c: commands that make an element ---- */

int cli_mkproc(struct cli *c);
int cli_mkdkr(struct cli *c);
int cli_mkchan(struct cli *c);
int cli_mkdns(struct cli *c);
int cli_mkjoin(struct cli *c);
int cli_mkleave(struct cli *c);

/* ---- cli_ctl.c: commands that are one ctl verb, and waits ---- */

/* signal, close, set, unset, join: run the verb the command is named after. */
int cli_verb(struct cli *c);
/* suicide: the same, and a server that hangs up as it stops has done it. */
int cli_suicide(struct cli *c);
int cli_waitall(struct cli *c);

/* ---- cli_stream.c: streams between the cluster and stdin/stdout ---- */

/* The commands named after a stream file: stdin and send copy standard input into it,
 * stdout, stderr and recv copy it to standard output. */
int cli_copy_in(struct cli *c);
int cli_copy_out(struct cli *c);

/* Ask the multicast group spec (MCAST:PORT, NULL or "": $CIRCUIT_DISCOVER or the
 * default) for a server's URL (cli_discover.c); within 3 s, else -EHOSTUNREACH and a
 * one-line message in err.  With key (KEY_LEN bytes) only an answer sealed with it
 * counts. */
int cli_discover(const char *spec, const uint8_t *key, char *url, size_t size, char *err,
    size_t errsize);

#endif
