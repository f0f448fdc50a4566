/* dns_zone.h - the record store of a DNS element and the answer to one query.
 *
 * Pure: no loop, no sockets.  Records are kept as ldns RRs per owner name, in a
 * tree ordered canonically (case-insensitive, label by label from the root), so
 * lookups ignore case and the names below a name follow it.  ldns does all the
 * record parsing and all the wire format; dns_zone_answer() turns the bytes of one
 * query into the bytes of its answer, which the element sends over UDP or TCP and
 * which the unit tests and the fuzz target call directly.
 */
#ifndef CIRCUIT_DNS_ZONE_H
#define CIRCUIT_DNS_ZONE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct dns_zone;

/* Most records one store holds (a bound on what a ctl writer can make us keep). */
#define DNS_ZONE_MAX_RECORDS 100000

/* The EDNS0 UDP payload size this server advertises (the DNS flag day 2020 value). */
#define DNS_EDNS_SIZE 1232

struct dns_zone *dns_zone_new(void);
void dns_zone_free(struct dns_zone *z);

/* Add one record in zone-file syntax ("web.example. 60 IN A 10.0.0.7"; relative
 * names are taken from the root, the TTL defaults to 3600).  The same record again
 * only updates its TTL; a CNAME replaces the name's CNAME.  0, or -EINVAL (bad
 * record: ldns's reason, or a CNAME next to other data), -ENOSPC (store full) or
 * -ENOMEM, with a one-line reason in why. */
int dns_zone_set(struct dns_zone *z, const char *text, char *why, size_t whylen);

/* Remove every record of the domain name text: 0, -EINVAL (not a name) or -ENOENT
 * (no records of that name), with a one-line reason in why. */
int dns_zone_unset(struct dns_zone *z, const char *text, char *why, size_t whylen);

/* How many records the store holds. */
size_t dns_zone_count(const struct dns_zone *z);

/* The records as {"name.": ["name. 3600 IN A 1.2.3.4", ...]}, names in canonical
 * order (a new reference, NULL on allocation failure). */
json_t *dns_zone_json(const struct dns_zone *z);

/* The answer to the query q (qlen bytes) as received over TCP (tcp != 0) or UDP:
 * 0 with a malloc'd answer in *out / *outlen, or -EINVAL when the query is to be
 * dropped (too short for a header, itself an answer) or -ENOMEM.  A malformed query
 * gets FORMERR, another opcode NOTIMP, an EDNS version other than 0 BADVERS; a UDP
 * answer longer than the client's buffer (512, or its EDNS0 size) comes back
 * truncated (TC, no records); over TCP it is whole. */
int dns_zone_answer(const struct dns_zone *z, const uint8_t *q, size_t qlen, int tcp,
    uint8_t **out, size_t *outlen);

#endif
