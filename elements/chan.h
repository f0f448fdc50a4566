/* chan.h - the channel element (mkchan N): a Go channel whose messages are byte streams.
 *
 * One open–write–close of `send` is one message; each open of `recv` takes exactly one
 * message, read to EOF.  A message either waits in one of the N buffer slots (at most
 * CHAN_MSG_MAX bytes) or streams straight to a receiver that was waiting (no limit,
 * the writer is held back until the reader has taken each write).  Delivery is
 * exactly once and in order per sender.
 */
#ifndef CIRCUIT_CHAN_H
#define CIRCUIT_CHAN_H

#include "elements/element.h"

/* Largest buffered message, as in the seed: bigger ones need a waiting receiver. */
#define CHAN_MSG_MAX 32768

/* Largest buffer capacity mkchan accepts. */
#define CHAN_CAP_MAX 65536

/* The channel kind, registered in the kind table (elements/element.c). */
extern const struct elem_kind chan_kind;

/* Parse a mkchan argument (decimal 0..CHAN_CAP_MAX, digits only) into *cap: 0 or -EINVAL. */
int chan_parse_cap(const char *arg, int *cap);

#endif
