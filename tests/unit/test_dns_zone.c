/* test_dns_zone.c - the DNS record store and the query -> answer function, called
 * directly with queries made by ldns and answers read back by ldns. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <ldns/ldns.h>

#include "elements/dns_zone.h"

static char why[512];

static struct dns_zone *
zone_of(const char *const *rrs)
{
	struct dns_zone *z = dns_zone_new();

	cr_assert_not_null(z);
	for (; *rrs != NULL; rrs++)
		cr_assert_eq(dns_zone_set(z, *rrs, why, sizeof why), 0, "%s: %s", *rrs, why);
	return z;
}

static char *
json_text(const struct dns_zone *z)
{
	json_t *j = dns_zone_json(z);
	char *s;

	cr_assert_not_null(j);
	s = json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(j);
	return s;
}

/* ---- the store ---- */

Test(store, set_keeps_records_per_name_in_canonical_order)
{
	static const char *const rrs[] = {
		"b.example. 60 IN A 10.0.0.2", "example. IN MX 10 b.example.",
		"a.b.example. IN TXT \"x y\"", "A.example. 60 IN A 10.0.0.1",
		"a.example. 60 IN AAAA ::1", NULL,
	};
	struct dns_zone *z = zone_of(rrs);
	char *s = json_text(z);

	cr_assert_eq(dns_zone_count(z), 5);
	cr_assert_str_eq(s, "{\"example.\":[\"example. 3600 IN MX 10 b.example.\"],"
	    "\"A.example.\":[\"A.example. 60 IN A 10.0.0.1\",\"a.example. 60 IN AAAA ::1\"],"
	    "\"b.example.\":[\"b.example. 60 IN A 10.0.0.2\"],"
	    "\"a.b.example.\":[\"a.b.example. 3600 IN TXT \\\"x y\\\"\"]}");
	free(s);
	dns_zone_free(z);
}

Test(store, same_record_updates_ttl_cname_replaces_cname)
{
	static const char *const rrs[] = {
		"x. 60 IN A 1.2.3.4", "X. 90 IN A 1.2.3.4", "c. CNAME x.", "c. CNAME y.", NULL,
	};
	struct dns_zone *z = zone_of(rrs);
	char *s = json_text(z);

	cr_assert_eq(dns_zone_count(z), 2);
	cr_assert_str_eq(s, "{\"c.\":[\"c. 3600 IN CNAME y.\"],\"x.\":[\"X. 90 IN A 1.2.3.4\"]}");
	free(s);
	dns_zone_free(z);
}

Test(store, bad_records_are_einval_with_ldns_reason)
{
	struct dns_zone *z = dns_zone_new();

	cr_assert_eq(dns_zone_set(z, "x. IN A 300.0.0.1", why, sizeof why), -EINVAL);
	cr_assert_str_eq(why, "bad record 'x. IN A 300.0.0.1': Syntax error, could not parse "
	    "the RR's rdata");
	cr_assert_eq(dns_zone_set(z, "", why, sizeof why), -EINVAL);
	cr_assert_eq(dns_zone_set(z, "x. IN BOGUS 1", why, sizeof why), -EINVAL);
	cr_assert_eq(dns_zone_set(z, "x. OPT", why, sizeof why), -EINVAL);
	cr_assert_eq(dns_zone_set(z, "x. ANY A 1.2.3.4", why, sizeof why), -EINVAL);
	cr_assert_eq(dns_zone_set(z, "$INCLUDE /etc/passwd", why, sizeof why), -EINVAL);
	cr_assert_eq(dns_zone_set(z, "$ORIGIN example.", why, sizeof why), -EINVAL);
	cr_assert_eq(dns_zone_set(z, "x. TYPE0 \\# 0", why, sizeof why), -EINVAL);
	cr_assert_eq(dns_zone_set(z, "x. A 1.2.3.4", why, sizeof why), 0);
	cr_assert_eq(dns_zone_set(z, "x. CNAME y.", why, sizeof why), -EINVAL);
	cr_assert_str_eq(why, "a CNAME cannot share its name with other records (unset the name first)");
	cr_assert_eq(dns_zone_set(z, "c. CNAME y.", why, sizeof why), 0);
	cr_assert_eq(dns_zone_set(z, "c. A 1.2.3.4", why, sizeof why), -EINVAL);
	cr_assert_eq(dns_zone_count(z), 2);
	dns_zone_free(z);
}

Test(store, unset_removes_every_record_of_a_name)
{
	static const char *const rrs[] = {
		"x.example. A 1.2.3.4", "x.example. AAAA ::1", "y.example. A 1.2.3.5", NULL,
	};
	struct dns_zone *z = zone_of(rrs);
	char *s;

	cr_assert_eq(dns_zone_unset(z, "X.Example", why, sizeof why), 0);
	cr_assert_eq(dns_zone_count(z), 1);
	cr_assert_eq(dns_zone_unset(z, "x.example.", why, sizeof why), -ENOENT);
	cr_assert_str_eq(why, "no records of x.example.");
	cr_assert_eq(dns_zone_unset(z, "", why, sizeof why), -EINVAL);
	cr_assert_eq(dns_zone_unset(z, "a..b", why, sizeof why), -EINVAL);
	s = json_text(z);
	cr_assert_str_eq(s, "{\"y.example.\":[\"y.example. 3600 IN A 1.2.3.5\"]}");
	free(s);
	dns_zone_free(z);
}

Test(store, is_bounded)
{
	struct dns_zone *z = dns_zone_new();
	char rr[64];
	int rc = 0, i;

	for (i = 0; i <= DNS_ZONE_MAX_RECORDS && rc == 0; i++) {
		snprintf(rr, sizeof rr, "n%d.x. A 10.0.0.1", i);
		rc = dns_zone_set(z, rr, why, sizeof why);
	}
	cr_assert_eq(rc, -ENOSPC);
	cr_assert_eq(i, DNS_ZONE_MAX_RECORDS + 1);
	cr_assert_eq(dns_zone_count(z), DNS_ZONE_MAX_RECORDS);
	dns_zone_free(z);
	/* One name holds at most 4096 (more never fit a message). */
	z = dns_zone_new();
	for (i = 0, rc = 0; i <= 4096 && rc == 0; i++) {
		snprintf(rr, sizeof rr, "one.x. A 10.0.%d.%d", (i >> 8) & 255, i & 255);
		rc = dns_zone_set(z, rr, why, sizeof why);
	}
	cr_assert_eq(rc, -ENOSPC);
	cr_assert_eq(dns_zone_count(z), 4096);
	dns_zone_free(z);
}

/* ---- answers ---- */

static const char *const zone_rrs[] = {
	"example. IN SOA ns.example. admin.example. 1 3600 600 86400 60",
	"web.example. 60 IN A 10.0.0.7", "www.example. CNAME web.example.",
	"loop1.example. CNAME loop2.example.", "loop2.example. CNAME loop1.example.",
	"example. MX 10 mail.example.", "mail.example. A 10.0.0.25",
	"deep.below.example. A 10.0.0.9", NULL,
};

/* Ask z for name/type (edns: its UDP size, 0 for none) and parse the answer. */
static ldns_pkt *
ask(const struct dns_zone *z, const char *name, ldns_rr_type type, uint16_t edns, int tcp)
{
	ldns_pkt *q = NULL, *a = NULL;
	uint8_t *wire, *out;
	size_t len, outlen;

	cr_assert_eq(ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, LDNS_RD), 0);
	ldns_pkt_set_id(q, 4242);
	if (edns > 0)
		ldns_pkt_set_edns_udp_size(q, edns);
	cr_assert_eq(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
	ldns_pkt_free(q);
	cr_assert_eq(dns_zone_answer(z, wire, len, tcp, &out, &outlen), 0);
	free(wire);
	cr_assert_eq(ldns_wire2pkt(&a, out, outlen), LDNS_STATUS_OK);
	cr_assert(outlen <= (tcp ? 65535 : edns > 512 ? edns : 512));
	free(out);
	cr_assert_eq(ldns_pkt_id(a), 4242);
	cr_assert(ldns_pkt_qr(a));
	return a;
}

static size_t
nans(const ldns_pkt *a)
{
	return ldns_rr_list_rr_count(ldns_pkt_answer(a));
}

Test(answer, hit_nxdomain_nodata_case)
{
	struct dns_zone *z = zone_of(zone_rrs);
	ldns_pkt *a;

	a = ask(z, "WEB.example.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert(ldns_pkt_aa(a));
	cr_assert_eq(ldns_pkt_get_rcode(a), LDNS_RCODE_NOERROR);
	cr_assert_eq(nans(a), 1);
	ldns_pkt_free(a);
	a = ask(z, "nosuch.example.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert(ldns_pkt_aa(a));
	cr_assert_eq(ldns_pkt_get_rcode(a), LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(ldns_rr_list_rr_count(ldns_pkt_authority(a)), 1, "the SOA");
	ldns_pkt_free(a);
	a = ask(z, "web.example.", LDNS_RR_TYPE_MX, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(a), LDNS_RCODE_NOERROR);
	cr_assert_eq(nans(a), 0);
	ldns_pkt_free(a);
	a = ask(z, "below.example.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(a), LDNS_RCODE_NOERROR, "an empty non-terminal");
	ldns_pkt_free(a);
	a = ask(z, "other.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(a), LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(ldns_rr_list_rr_count(ldns_pkt_authority(a)), 0);
	ldns_pkt_free(a);
	dns_zone_free(z);
}

Test(answer, cname_chains_and_loops)
{
	struct dns_zone *z = zone_of(zone_rrs);
	ldns_pkt *a;

	a = ask(z, "www.example.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(nans(a), 2);
	cr_assert_eq(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(a), 0)), LDNS_RR_TYPE_CNAME);
	cr_assert_eq(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(a), 1)), LDNS_RR_TYPE_A);
	ldns_pkt_free(a);
	a = ask(z, "www.example.", LDNS_RR_TYPE_CNAME, 0, 0);
	cr_assert_eq(nans(a), 1);
	ldns_pkt_free(a);
	a = ask(z, "loop1.example.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(nans(a), 2, "each CNAME of the loop once");
	ldns_pkt_free(a);
	a = ask(z, "example.", LDNS_RR_TYPE_MX, 0, 0);
	cr_assert_eq(nans(a), 1);
	cr_assert_eq(ldns_rr_list_rr_count(ldns_pkt_additional(a)), 1, "the mail host's A");
	ldns_pkt_free(a);
	dns_zone_free(z);
}

Test(answer, truncation_and_edns)
{
	struct dns_zone *z = dns_zone_new();
	ldns_pkt *a;
	char rr[200];

	for (int i = 0; i < 30; i++) {
		snprintf(rr, sizeof rr, "big. TXT \"record %02d xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"", i);
		cr_assert_eq(dns_zone_set(z, rr, why, sizeof why), 0);
	}
	a = ask(z, "big.", LDNS_RR_TYPE_TXT, 0, 0);
	cr_assert(ldns_pkt_tc(a));
	cr_assert_eq(nans(a), 0);
	cr_assert_eq(ldns_rr_list_rr_count(ldns_pkt_question(a)), 1);
	ldns_pkt_free(a);
	a = ask(z, "big.", LDNS_RR_TYPE_TXT, 0, 1);
	cr_assert(!ldns_pkt_tc(a));
	cr_assert_eq(nans(a), 30);
	ldns_pkt_free(a);
	a = ask(z, "big.", LDNS_RR_TYPE_TXT, 4096, 0);
	cr_assert(!ldns_pkt_tc(a));
	cr_assert_eq(nans(a), 30);
	cr_assert_eq(ldns_pkt_edns_udp_size(a), DNS_EDNS_SIZE);
	ldns_pkt_free(a);
	a = ask(z, "big.", LDNS_RR_TYPE_TXT, 1232, 0);
	cr_assert(ldns_pkt_tc(a));
	ldns_pkt_free(a);
	a = ask(z, "big.", LDNS_RR_TYPE_TXT, 100, 0);
	cr_assert(ldns_pkt_tc(a), "an EDNS size below 512 counts as 512");
	ldns_pkt_free(a);
	dns_zone_free(z);
}

/* ---- bad queries ---- */

static int
answer_raw(const struct dns_zone *z, const uint8_t *q, size_t len, int *rcode)
{
	uint8_t *out;
	size_t outlen;
	ldns_pkt *a = NULL;
	int rc = dns_zone_answer(z, q, len, 0, &out, &outlen);

	if (rc < 0)
		return rc;
	cr_assert_eq(ldns_wire2pkt(&a, out, outlen), LDNS_STATUS_OK);
	cr_assert_eq(ldns_pkt_id(a), 0x1234);
	*rcode = ldns_pkt_get_rcode(a);
	ldns_pkt_free(a);
	free(out);
	return 0;
}

Test(bad, short_and_answers_are_dropped)
{
	struct dns_zone *z = zone_of(zone_rrs);
	static const uint8_t q[] = { 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0 };
	static const uint8_t ans[] = { 0x12, 0x34, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1 };
	int rcode;

	cr_assert_eq(answer_raw(z, q, 0, &rcode), -EINVAL);
	cr_assert_eq(answer_raw(z, q, sizeof q, &rcode), -EINVAL);
	cr_assert_eq(answer_raw(z, ans, sizeof ans, &rcode), -EINVAL);
	dns_zone_free(z);
}

Test(bad, formerr_for_malformed_notimp_for_other_opcodes)
{
	struct dns_zone *z = zone_of(zone_rrs);
	static const uint8_t counts[] = { 0x12, 0x34, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0, 0, 1, 0, 1 };
	static const uint8_t self[] = { 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c,
	    0, 1, 0, 1 };
	static const uint8_t pingpong[] = { 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a',
	    0xc0, 0x0e, 0xc0, 0x0c, 0, 1, 0, 1 };
	static const uint8_t cut[] = { 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'e' };
	static const uint8_t update[] = { 0x12, 0x34, 5 << 3, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
	static const uint8_t noq[] = { 0x12, 0x34, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	int rcode;

	cr_assert_eq(answer_raw(z, counts, sizeof counts, &rcode), 0);
	cr_assert_eq(rcode, LDNS_RCODE_FORMERR);
	cr_assert_eq(answer_raw(z, self, sizeof self, &rcode), 0);
	cr_assert_eq(rcode, LDNS_RCODE_FORMERR);
	cr_assert_eq(answer_raw(z, pingpong, sizeof pingpong, &rcode), 0);
	cr_assert_eq(rcode, LDNS_RCODE_FORMERR);
	cr_assert_eq(answer_raw(z, cut, sizeof cut, &rcode), 0);
	cr_assert_eq(rcode, LDNS_RCODE_FORMERR);
	cr_assert_eq(answer_raw(z, noq, sizeof noq, &rcode), 0);
	cr_assert_eq(rcode, LDNS_RCODE_FORMERR);
	cr_assert_eq(answer_raw(z, update, sizeof update, &rcode), 0);
	cr_assert_eq(rcode, LDNS_RCODE_NOTIMPL);
	static const uint8_t axfr[] = { 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 252, 0, 1 };
	static const uint8_t opt[] = { 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 41, 0, 1 };
	cr_assert_eq(answer_raw(z, axfr, sizeof axfr, &rcode), 0);
	cr_assert_eq(rcode, LDNS_RCODE_NOTIMPL);
	cr_assert_eq(answer_raw(z, opt, sizeof opt, &rcode), 0);
	cr_assert_eq(rcode, LDNS_RCODE_FORMERR);
	dns_zone_free(z);
}
