/* flag.h - one table of single-dash long flags per program, parsed by getopt_long_only.
 *
 * A program lists its flags once, as an array of struct flag indexed by its own enum.
 * The same array gives getopt_long_only its options and prints the usage, so a flag
 * cannot be accepted without being documented, nor documented without being accepted.
 * Every flag may be written -name, --name, -name VALUE or -name=VALUE (Go's flag
 * package, which the seed used, took all of these).  To add a flag: add an enum value,
 * a row in the table and a case where the program handles it.
 */
#ifndef CIRCUIT_FLAG_H
#define CIRCUIT_FLAG_H

#include <getopt.h>
#include <stdio.h>

struct flag {
	const char *name;	/* without the dash: "d" for -d */
	const char *alias;	/* a second name ("help" for "h"), or NULL */
	int arg;		/* no_argument, required_argument or optional_argument */
	const char *value;	/* the value's name in the usage ("URL"), or NULL */
	const char *help;	/* what it does; lines after a '\n' are indented */
};

/* getopt_long_only's code for table entry i, and back. */
#define FLAG_CODE(i)	(0x100 + (i))
#define FLAG_INDEX(c)	((c) - 0x100)

/* What flag_next returns besides a table index. */
enum {
	FLAG_END = -1,		/* no more arguments */
	FLAG_ARG = -2,		/* a positional argument, in *value */
	FLAG_UNKNOWN = -3,	/* an unknown (or ambiguous) flag, in *bad */
	FLAG_NOVALUE = -4,	/* a flag that needs a value came without one, in *bad */
	FLAG_EXTRA = -5,	/* a value given to a flag that takes none, in *bad */
};

/* A parse of argv against one table. */
struct flag_parser {
	const struct flag *table;
	int n;
	int argc;
	char **argv;
	int done;		/* "--" seen: the rest are positional */
	struct option opts[2 * 32 + 1];
};

/* Start parsing argv[1..argc-1] against table[0..n-1]; 0, or -E2BIG for a table
 * longer than the parser holds (a program bug). */
int flag_init(struct flag_parser *p, const struct flag *table, int n, int argc, char **argv);

/* The next flag (its table index, with its value or NULL in *value), a positional
 * argument (FLAG_ARG, the argument in *value) or FLAG_END; a bad flag gives a
 * FLAG_* error with the offending word in *bad.  Positional arguments come in order,
 * mixed with the flags.  A word that is a negative number ("-9") is positional.  An
 * optional value may also be the next word when accept(word) says it fits. */
int flag_next(struct flag_parser *p, char **value, const char **bad,
    int (*accept)(const char *word));

/* What is wrong with a bad flag, for "WORD: why" messages. */
const char *flag_why(int code);

/* Print the flags as "[-a HOST:PORT] [-v] ...", wrapped under a first line that
 * starts with prefix ("usage: circuit start"). */
void flag_synopsis(FILE *f, const char *prefix, const struct flag *table, int n);

/* Print one line (or more) per flag: "  -a HOST:PORT   listen address". */
void flag_usage(FILE *f, const struct flag *table, int n);

#endif
