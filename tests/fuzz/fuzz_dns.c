/* fuzz_dns.c - libFuzzer target: the DNS element's query handler (dns_zone_answer),
 * fed arbitrary bytes as a UDP datagram and as a TCP message, against a small zone
 * with CNAMEs (one a loop), glue, an SOA and a large record set.  Every answer must
 * be a message ldns can read back, within the size its transport allows. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ldns/ldns.h>

#include "elements/dns_zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dns_zone *zone;

static void
setup(void)
{
	static const char *const rrs[] = {
		"example. SOA ns.example. admin.example. 1 3600 600 86400 60",
		"example. NS ns.example.", "ns.example. A 10.0.0.53", "example. MX 10 ns.example.",
		"web.example. A 10.0.0.7", "web.example. AAAA 2001:db8::7",
		"www.example. CNAME web.example.", "a.example. CNAME b.example.",
		"b.example. CNAME a.example.", "_s._tcp.example. SRV 0 5 80 web.example.",
		"t.example. TXT \"hello\"", "7.0.0.10.in-addr.arpa. PTR web.example.", NULL,
	};
	char why[256], rr[128];

	zone = dns_zone_new();
	for (const char *const *p = rrs; *p != NULL; p++)
		if (dns_zone_set(zone, *p, why, sizeof why) < 0)
			abort();
	for (int i = 0; i < 40; i++) {
		snprintf(rr, sizeof rr, "big.example. TXT \"record %d of a set that never fits 512\"", i);
		if (dns_zone_set(zone, rr, why, sizeof why) < 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out;
	size_t outlen;
	ldns_pkt *p;

	if (zone == NULL)
		setup();
	for (int tcp = 0; tcp <= 1; tcp++) {
		if (dns_zone_answer(zone, data, size, tcp, &out, &outlen) < 0)
			continue;
		p = NULL;
		if (ldns_wire2pkt(&p, out, outlen) != LDNS_STATUS_OK || !ldns_pkt_qr(p) ||
		    outlen > 65535)
			abort();
		/* Over UDP the answer fits the asker's buffer: 512, or its EDNS0 size. */
		if (!tcp && outlen > 512) {
			ldns_pkt *q = NULL;
			if (ldns_wire2pkt(&q, data, size) != LDNS_STATUS_OK ||
			    outlen > ldns_pkt_edns_udp_size(q))
				abort();
			ldns_pkt_free(q);
		}
		ldns_pkt_free(p);
		free(out);
	}
	return 0;
}
