/* signal.c - the signal verb's checks, shared by process and container elements. */
#include <errno.h>
#include <string.h>

#include "elements/proc.h"
#include "elements/signal.h"

int
signal_of_verb(struct element *e, const char *kind, const char *verb, const char *arg,
    struct op *op)
{
	int sig;

	if (strcmp(verb, "signal") != 0) {
		op_fail(op, -EINVAL, "%s: %s: unknown verb for a %s (signal, scrub)",
		    elem_path(e), verb, kind);
		return -EINVAL;
	}
	sig = proc_signal_parse(arg);
	if (sig < 0)
		op_fail(op, -EINVAL, "%s: signal: bad signal \"%.32s\" (a name like TERM or KILL, "
		    "or a number)", elem_path(e), arg);
	return sig;
}
