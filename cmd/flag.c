/* flag.c - single-dash long flags through getopt_long_only, and their usage text.
 *
 * getopt_long_only parses exactly the style the seed's Go flag package took: -name and
 * --name alike, with the value as the next word or after '='.  The optstring "-:"
 * keeps positional arguments in order among the flags (a command name, then its paths)
 * and makes a missing value its own answer.
 */
#include <errno.h>
#include <string.h>

#include "cmd/flag.h"

#define USAGE_COL	16	/* where a flag's help starts */
#define WIDTH		80

int
flag_init(struct flag_parser *p, const struct flag *table, int n, int argc, char **argv)
{
	int k = 0;

	if (2 * n + 1 > (int)(sizeof p->opts / sizeof p->opts[0]))
		return -E2BIG;
	memset(p, 0, sizeof *p);
	p->table = table;
	p->n = n;
	p->argc = argc;
	p->argv = argv;
	for (int i = 0; i < n; i++) {
		p->opts[k++] = (struct option){ table[i].name, table[i].arg, NULL, FLAG_CODE(i) };
		if (table[i].alias != NULL)
			p->opts[k++] = (struct option){ table[i].alias, table[i].arg, NULL, FLAG_CODE(i) };
	}
	p->opts[k] = (struct option){ NULL, 0, NULL, 0 };
	optind = 0;	/* glibc: start afresh */
	opterr = 0;
	return 0;
}

/* "-9" and "-15" are arguments (signal numbers, a bad capacity), never flags. */
static int
is_number(const char *a)
{
	if (*a == '-')
		a++;
	if (*a == '\0')
		return 0;
	for (; *a != '\0'; a++)
		if (*a < '0' || *a > '9')
			return 0;
	return 1;
}

int
flag_next(struct flag_parser *p, char **value, const char **bad,
    int (*accept)(const char *word))
{
	int i = optind == 0 ? 1 : optind, c;

	*value = NULL;
	*bad = NULL;
	if (i >= p->argc)
		return FLAG_END;
	/* Between two calls getopt has finished its word (every flag is long, so none
	 * are bundled), so taking a word here leaves its state consistent. */
	if (p->done || is_number(p->argv[i])) {
		optind = i + 1;
		*value = p->argv[i];
		return FLAG_ARG;
	}
	optopt = 0;
	c = getopt_long_only(p->argc, p->argv, "-:", p->opts, NULL);
	switch (c) {
	case -1:
		/* Only "--" ends the scan early: what follows is positional. */
		if (optind < p->argc) {
			p->done = 1;
			*value = p->argv[optind++];
			return FLAG_ARG;
		}
		return FLAG_END;
	case 1:
		*value = optarg;
		return FLAG_ARG;
	case ':':
		*bad = p->argv[optind - 1];
		return FLAG_NOVALUE;
	case '?':
		*bad = p->argv[optind - 1];
		/* glibc names the flag in optopt when it exists but was given a value it
		 * does not take; an unknown or ambiguous one leaves optopt 0. */
		return optopt != 0 ? FLAG_EXTRA : FLAG_UNKNOWN;
	}
	i = FLAG_INDEX(c);
	if (i < 0 || i >= p->n) {
		*bad = p->argv[optind - 1];
		return FLAG_UNKNOWN;
	}
	*value = optarg;
	if (p->table[i].arg == optional_argument && optarg == NULL && accept != NULL &&
	    optind < p->argc && accept(p->argv[optind]))
		*value = p->argv[optind++];
	return i;
}

const char *
flag_why(int code)
{
	switch (code) {
	case FLAG_NOVALUE:
		return "needs a value";
	case FLAG_EXTRA:
		return "takes no value";
	default:
		return "unknown flag";
	}
}

/* "-a HOST:PORT", "-discover [MCAST:PORT]" or "-v" into buf. */
static void
flag_head(const struct flag *fl, char *buf, size_t size)
{
	if (fl->value == NULL)
		snprintf(buf, size, "-%s", fl->name);
	else if (fl->arg == optional_argument)
		snprintf(buf, size, "-%s [%s]", fl->name, fl->value);
	else
		snprintf(buf, size, "-%s %s", fl->name, fl->value);
}

void
flag_synopsis(FILE *f, const char *prefix, const struct flag *table, int n)
{
	int indent = (int)strlen(prefix), col = indent;

	fputs(prefix, f);
	for (int i = 0; i < n; i++) {
		char head[64];
		int len;

		flag_head(&table[i], head, sizeof head);
		len = (int)strlen(head) + 3;
		if (col + len > WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		}
		fprintf(f, " [%s]", head);
		col += len;
	}
	fputc('\n', f);
}

void
flag_usage(FILE *f, const struct flag *table, int n)
{
	for (int i = 0; i < n; i++) {
		const char *h = table[i].help, *nl;
		char head[64];
		int len;

		flag_head(&table[i], head, sizeof head);
		len = (int)strlen(head);
		/* A head too long for its column gets a line of its own. */
		if (len + 2 < USAGE_COL - 1)
			fprintf(f, "  %-*s", USAGE_COL - 2, head);
		else
			fprintf(f, "  %s\n%*s", head, USAGE_COL, "");
		for (; (nl = strchr(h, '\n')) != NULL; h = nl + 1)
			fprintf(f, "%.*s\n%*s", (int)(nl - h), h, USAGE_COL, "");
		fprintf(f, "%s\n", h);
	}
}
