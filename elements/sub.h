/* sub.h - the subscription elements (mk@join, mk@leave); see sub.c. */
#ifndef CIRCUIT_ELEMENTS_SUB_H
#define CIRCUIT_ELEMENTS_SUB_H

/* A server joined (leave 0) or left (leave 1) the member table: queue its anchor
 * path on every subscription of that source. */
void sub_publish(int leave, const char *id);

#endif
