/* signal.h - the `signal NAME|NUMBER` verb of the elements that run something: a
 * process (proc.c) and a container (dkr.c) check the verb and parse its signal here,
 * with the same messages; each then delivers the signal its own way.
 */
#ifndef CIRCUIT_ELEMENTS_SIGNAL_H
#define CIRCUIT_ELEMENTS_SIGNAL_H

#include "elements/element.h"
#include "elements/op.h"

/* The signal that `verb arg` asks of element e, a kind ("process", "container"): its
 * number, or -EINVAL once op has failed with one line (a verb other than signal, or
 * a signal that is neither a name like TERM nor a number). */
int signal_of_verb(struct element *e, const char *kind, const char *verb, const char *arg,
    struct op *op);

#endif
