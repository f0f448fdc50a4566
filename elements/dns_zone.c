/* dns_zone.c - the record store of a DNS element and the answer to one query.
 *
 * The store is an ldns red-black tree of owner names (ldns_dname_compare: canonical
 * order, case-insensitive), each holding the ldns RRs of that name.  Answers borrow
 * the stored RRs: they are pushed into the answer packet, encoded by ldns, and taken
 * out again before the packet is freed, so a query costs no copy of its records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/dns_ldns.h"
#include "elements/dns_zone.h"

/* How many CNAMEs an answer follows inside the store before it stops. */
#define CNAME_HOPS 8

/* Most records of one name: more never fit a 64 KiB message, and set's duplicate
 * check scans the name's records. */
#define NAME_MAX_RECORDS 4096

/* Most address records an answer adds for the names it points to. */
#define GLUE_MAX 32

/* One owner name: its tree node (key = owner) and its records. */
struct dns_name {
	ldns_rbnode_t node;		/* first: the tree hands back nodes */
	ldns_rdf *owner;		/* as first given (case kept for peek) */
	ldns_rr_list *rrs;
};

struct dns_zone {
	ldns_rbtree_t *names;
	size_t count;
};

static int
cmp_names(const void *a, const void *b)
{
	return ldns_dname_compare(a, b);
}

struct dns_zone *
dns_zone_new(void)
{
	struct dns_zone *z = calloc(1, sizeof *z);

	if (z == NULL)
		return NULL;
	z->names = ldns_rbtree_create(cmp_names);
	if (z->names == NULL) {
		free(z);
		return NULL;
	}
	return z;
}

static void
name_free(struct dns_name *n)
{
	ldns_rr_list_deep_free(n->rrs);
	ldns_rdf_deep_free(n->owner);
	free(n);
}

static void
free_node(ldns_rbnode_t *node, void *arg)
{
	name_free((struct dns_name *)node);
}

void
dns_zone_free(struct dns_zone *z)
{
	if (z == NULL)
		return;
	ldns_traverse_postorder(z->names, free_node, NULL);
	ldns_rbtree_free(z->names);
	free(z);
}

size_t
dns_zone_count(const struct dns_zone *z)
{
	return z->count;
}

static struct dns_name *
find(const struct dns_zone *z, const ldns_rdf *name)
{
	return (struct dns_name *)ldns_rbtree_search(z->names, name);
}

/* Types that are not data: they belong to a query or a transaction, never a zone. */
static int
type_storable(ldns_rr_type t)
{
	switch ((int)t) {
	case 0:		/* reserved; also what ldns makes of "$INCLUDE file" */
	case LDNS_RR_TYPE_OPT: case LDNS_RR_TYPE_TSIG: case LDNS_RR_TYPE_TKEY:
	case LDNS_RR_TYPE_IXFR: case LDNS_RR_TYPE_AXFR: case LDNS_RR_TYPE_MAILA:
	case LDNS_RR_TYPE_MAILB: case LDNS_RR_TYPE_ANY:
		return 0;
	default:
		return 1;
	}
}

/* Has n a record of type t (other than the record skip)? */
static int
has_type(const struct dns_name *n, ldns_rr_type t, int want)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(n->rrs); i++) {
		int is = ldns_rr_get_type(ldns_rr_list_rr(n->rrs, i)) == t;
		if (is == want)
			return 1;
	}
	return 0;
}

/* Are a and b the same record (owner, class, type and data; not TTL)?  Field by
 * field: ldns_rr_compare() encodes both records to compare them. */
static int
rr_equal(const ldns_rr *a, const ldns_rr *b)
{
	if (ldns_rr_compare_no_rdata(a, b) != 0 || ldns_rr_rd_count(a) != ldns_rr_rd_count(b))
		return 0;
	for (size_t i = 0; i < ldns_rr_rd_count(a); i++)
		if (ldns_rdf_compare(ldns_rr_rdf(a, i), ldns_rr_rdf(b, i)) != 0)
			return 0;
	return 1;
}

/* Put rr into name n: an equal record only takes the new TTL, a CNAME replaces the
 * CNAME; takes rr over on success.  0 or -errno with why. */
static int
name_add(struct dns_zone *z, struct dns_name *n, ldns_rr *rr, char *why, size_t whylen)
{
	ldns_rr_type t = ldns_rr_get_type(rr);

	for (size_t i = 0; i < ldns_rr_list_rr_count(n->rrs); i++) {
		ldns_rr *old = ldns_rr_list_rr(n->rrs, i);
		if (rr_equal(old, rr) ||
		    (t == LDNS_RR_TYPE_CNAME && ldns_rr_get_type(old) == LDNS_RR_TYPE_CNAME)) {
			ldns_rr_list_set_rr(n->rrs, rr, i);
			ldns_rr_free(old);
			return 0;
		}
	}
	/* RFC 1034 3.6.2: a name with a CNAME has no other data. */
	if ((t == LDNS_RR_TYPE_CNAME && has_type(n, LDNS_RR_TYPE_CNAME, 0)) ||
	    (t != LDNS_RR_TYPE_CNAME && has_type(n, LDNS_RR_TYPE_CNAME, 1))) {
		snprintf(why, whylen, "a CNAME cannot share its name with other records "
		    "(unset the name first)");
		return -EINVAL;
	}
	if (z->count >= DNS_ZONE_MAX_RECORDS) {
		snprintf(why, whylen, "the store is full (%d records)", DNS_ZONE_MAX_RECORDS);
		return -ENOSPC;
	}
	if (ldns_rr_list_rr_count(n->rrs) >= NAME_MAX_RECORDS) {
		snprintf(why, whylen, "the name has %d records, the most one name may have",
		    NAME_MAX_RECORDS);
		return -ENOSPC;
	}
	if (!ldns_rr_list_push_rr(n->rrs, rr)) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	z->count++;
	return 0;
}

int
dns_zone_set(struct dns_zone *z, const char *text, char *why, size_t whylen)
{
	ldns_rdf *root = ldns_dname_new_frm_str("."), *prev = NULL;
	struct dns_name *n;
	ldns_rr *rr = NULL;
	ldns_status st;
	int rc, made = 0;

	if (root == NULL) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	st = ldns_rr_new_frm_str(&rr, text, 3600, root, &prev);
	ldns_rdf_deep_free(root);
	ldns_rdf_deep_free(prev);
	if (st != LDNS_STATUS_OK) {
		snprintf(why, whylen, "bad record '%s': %s", text, ldns_get_errorstr_by_id(st));
		return st == LDNS_STATUS_MEM_ERR ? -ENOMEM : -EINVAL;
	}
	if (!type_storable(ldns_rr_get_type(rr)) || ldns_rr_get_class(rr) == LDNS_RR_CLASS_ANY ||
	    ldns_rr_get_class(rr) == LDNS_RR_CLASS_NONE) {
		snprintf(why, whylen, "bad record '%s': a query or transaction type or class, "
		    "not zone data", text);
		ldns_rr_free(rr);
		return -EINVAL;
	}
	n = find(z, ldns_rr_owner(rr));
	if (n == NULL) {
		n = calloc(1, sizeof *n);
		if (n == NULL || (n->owner = ldns_rdf_clone(ldns_rr_owner(rr))) == NULL ||
		    (n->rrs = ldns_rr_list_new()) == NULL) {
			if (n != NULL)
				ldns_rdf_deep_free(n->owner);
			free(n);
			ldns_rr_free(rr);
			snprintf(why, whylen, "out of memory");
			return -ENOMEM;
		}
		n->node.key = n->owner;
		n->node.data = n;
		ldns_rbtree_insert(z->names, &n->node);
		made = 1;
	}
	rc = name_add(z, n, rr, why, whylen);
	if (rc < 0) {
		ldns_rr_free(rr);
		if (made) {
			ldns_rbtree_delete(z->names, n->owner);
			name_free(n);
		}
	}
	return rc;
}

int
dns_zone_unset(struct dns_zone *z, const char *text, char *why, size_t whylen)
{
	ldns_rdf *name = NULL, *root = ldns_dname_new_frm_str(".");
	struct dns_name *n;
	ldns_status st;

	if (root == NULL) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	/* A relative name is taken from the root, as in set. */
	st = ldns_str2rdf_dname(&name, text);
	if (st == LDNS_STATUS_OK && !ldns_dname_str_absolute(text) &&
	    ldns_dname_cat(name, root) != LDNS_STATUS_OK)
		st = LDNS_STATUS_MEM_ERR;
	ldns_rdf_deep_free(root);
	if (st != LDNS_STATUS_OK || *text == '\0') {
		snprintf(why, whylen, "bad name '%s': %s", text,
		    *text == '\0' ? "empty" : ldns_get_errorstr_by_id(st));
		ldns_rdf_deep_free(name);
		return -EINVAL;
	}
	n = find(z, name);
	ldns_rdf_deep_free(name);
	if (n == NULL) {
		snprintf(why, whylen, "no records of %s", text);
		return -ENOENT;
	}
	ldns_rbtree_delete(z->names, n->owner);
	z->count -= ldns_rr_list_rr_count(n->rrs);
	name_free(n);
	return 0;
}

/* One record as zone-file text on one line, fields separated by single spaces. */
static json_t *
rr_text(const ldns_rr *rr)
{
	char *s = ldns_rr2str(rr), *p;
	size_t len;
	json_t *j;

	if (s == NULL)
		return NULL;
	for (p = s; *p != '\0'; p++)
		if (*p == '\t')
			*p = ' ';
	len = strlen(s);
	while (len > 0 && s[len - 1] == '\n')
		s[--len] = '\0';
	j = json_string(s);
	free(s);
	return j;
}

json_t *
dns_zone_json(const struct dns_zone *z)
{
	json_t *all = json_object(), *list;
	struct dns_name *n;
	char *key;

	if (all == NULL)
		return NULL;
	LDNS_RBTREE_FOR(n, struct dns_name *, z->names) {
		list = json_array();
		key = ldns_rdf2str(n->owner);
		if (list == NULL || key == NULL)
			goto fail;
		for (size_t i = 0; i < ldns_rr_list_rr_count(n->rrs); i++)
			if (json_array_append_new(list, rr_text(ldns_rr_list_rr(n->rrs, i))) < 0)
				goto fail;
		if (json_object_set_new(all, key, list) < 0) {
			list = NULL;
			goto fail;
		}
		free(key);
	}
	return all;
fail:
	free(key);
	json_decref(list);
	json_decref(all);
	return NULL;
}

/* ---- answering ---- */

/* An answer being built: the packet, and whether an allocation failed. */
struct reply {
	ldns_pkt *p;
	int nomem;
};

/* Push a stored (borrowed) record into a section; once only when once is set (the
 * check scans the section, so it is kept for the short ones: CNAMEs and glue). */
static void
push(struct reply *r, ldns_pkt_section sec, ldns_rr *rr, int once)
{
	ldns_rr_list *list = sec == LDNS_SECTION_ANSWER ? ldns_pkt_answer(r->p) :
	    sec == LDNS_SECTION_AUTHORITY ? ldns_pkt_authority(r->p) : ldns_pkt_additional(r->p);

	if (once && ldns_rr_list_contains_rr(list, rr))
		return;
	if (!ldns_pkt_push_rr(r->p, sec, rr))
		r->nomem = 1;
}

/* Push n's records of type t and class c (ANY matches all) into a section. */
static int
push_matching(struct reply *r, ldns_pkt_section sec, const struct dns_name *n,
    ldns_rr_type t, ldns_rr_class c, int once)
{
	int found = 0;

	for (size_t i = 0; i < ldns_rr_list_rr_count(n->rrs); i++) {
		ldns_rr *rr = ldns_rr_list_rr(n->rrs, i);
		if ((t == LDNS_RR_TYPE_ANY || ldns_rr_get_type(rr) == t) &&
		    (c == LDNS_RR_CLASS_ANY || ldns_rr_get_class(rr) == c)) {
			push(r, sec, rr, once);
			found = 1;
		}
	}
	return found;
}

/* Does anything lie below name (an empty non-terminal has no records of its own)? */
static int
has_descendant(const struct dns_zone *z, const ldns_rdf *name)
{
	ldns_rbnode_t *node = NULL;

	(void)ldns_rbtree_find_less_equal(z->names, name, &node);
	node = node == NULL ? ldns_rbtree_first(z->names) : ldns_rbtree_next(node);
	return node != LDNS_RBTREE_NULL &&
	    ldns_dname_is_subdomain(((struct dns_name *)node)->owner, name);
}

/* The addresses of the names an answer points to (NS, MX, SRV targets) that are
 * here go to the additional section, as a zone server does. */
static void
add_glue(const struct dns_zone *z, struct reply *r, ldns_rr_class c)
{
	ldns_rr_list *ans = ldns_pkt_answer(r->p);
	size_t count = ldns_rr_list_rr_count(ans);

	for (size_t i = 0; i < count && ldns_pkt_arcount(r->p) < GLUE_MAX; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ans, i);
		const ldns_rdf *target = NULL;
		struct dns_name *n;

		switch (ldns_rr_get_type(rr)) {
		case LDNS_RR_TYPE_NS:  target = ldns_rr_rdf(rr, 0); break;
		case LDNS_RR_TYPE_MX:  target = ldns_rr_rdf(rr, 1); break;
		case LDNS_RR_TYPE_SRV: target = ldns_rr_rdf(rr, 3); break;
		default: break;
		}
		if (target == NULL || ldns_rdf_get_type(target) != LDNS_RDF_TYPE_DNAME ||
		    (n = find(z, target)) == NULL)
			continue;
		push_matching(r, LDNS_SECTION_ADDITIONAL, n, LDNS_RR_TYPE_A, c, 1);
		push_matching(r, LDNS_SECTION_ADDITIONAL, n, LDNS_RR_TYPE_AAAA, c, 1);
	}
}

/* A negative answer carries the SOA of the closest enclosing name that has one. */
static void
add_soa(const struct dns_zone *z, struct reply *r, const ldns_rdf *qname, ldns_rr_class c)
{
	ldns_rdf *name = ldns_rdf_clone(qname), *up;

	while (name != NULL) {
		struct dns_name *n = find(z, name);
		if (n != NULL && push_matching(r, LDNS_SECTION_AUTHORITY, n, LDNS_RR_TYPE_SOA, c, 0))
			break;
		up = ldns_dname_label_count(name) > 0 ? ldns_dname_left_chop(name) : NULL;
		ldns_rdf_deep_free(name);
		name = up;
	}
	ldns_rdf_deep_free(name);
}

/* Fill the answer to the question qrr from the store. */
static void
lookup(const struct dns_zone *z, struct reply *r, const ldns_rr *qrr)
{
	const ldns_rdf *qname = ldns_rr_owner(qrr);
	ldns_rr_type t = ldns_rr_get_type(qrr);
	ldns_rr_class c = ldns_rr_get_class(qrr);
	struct dns_name *n = find(z, qname);
	int hops;

	if (n == NULL) {
		if (!has_descendant(z, qname))
			ldns_pkt_set_rcode(r->p, LDNS_RCODE_NXDOMAIN);
		add_soa(z, r, qname, c);
		return;
	}
	/* Follow CNAMEs inside the store for any other type (RFC 1034 4.3.2); a name
	 * with a CNAME has no other records, so its first record is the CNAME.  A loop
	 * ends at CNAME_HOPS (push() adds each record once). */
	for (hops = 0; n != NULL && hops < CNAME_HOPS; hops++) {
		if (push_matching(r, LDNS_SECTION_ANSWER, n, t, c, 0))
			break;
		if (t == LDNS_RR_TYPE_CNAME ||
		    !push_matching(r, LDNS_SECTION_ANSWER, n, LDNS_RR_TYPE_CNAME, c, 1))
			break;
		n = find(z, ldns_rr_rdf(ldns_rr_list_rr(n->rrs, 0), 0));
	}
	if (ldns_rr_list_rr_count(ldns_pkt_answer(r->p)) == 0)
		add_soa(z, r, qname, c);
	else
		add_glue(z, r, c);
}

/* Take the borrowed records out of the packet and free it. */
static void
reply_free(struct reply *r)
{
	ldns_rr_list_set_rr_count(ldns_pkt_question(r->p), 0);
	ldns_rr_list_set_rr_count(ldns_pkt_answer(r->p), 0);
	ldns_rr_list_set_rr_count(ldns_pkt_authority(r->p), 0);
	ldns_rr_list_set_rr_count(ldns_pkt_additional(r->p), 0);
	ldns_pkt_free(r->p);
}

/* Drop a section's records from the packet being built (for truncation). */
static void
clear_section(ldns_pkt *p, ldns_pkt_section sec)
{
	switch (sec) {
	case LDNS_SECTION_ANSWER:
		ldns_rr_list_set_rr_count(ldns_pkt_answer(p), 0);
		ldns_pkt_set_ancount(p, 0);
		break;
	case LDNS_SECTION_AUTHORITY:
		ldns_rr_list_set_rr_count(ldns_pkt_authority(p), 0);
		ldns_pkt_set_nscount(p, 0);
		break;
	default:
		ldns_rr_list_set_rr_count(ldns_pkt_additional(p), 0);
		ldns_pkt_set_arcount(p, 0);
		break;
	}
}

/* A header-only answer (FORMERR, NOTIMP) to a query that is not parsed further. */
static int
header_only(const uint8_t *q, uint8_t rcode, uint8_t **out, size_t *outlen)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_status st;

	if (p == NULL)
		return -ENOMEM;
	ldns_pkt_set_id(p, LDNS_ID_WIRE(q));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_opcode(p, (ldns_pkt_opcode)LDNS_OPCODE_WIRE(q));
	ldns_pkt_set_rd(p, LDNS_RD_WIRE(q) != 0);
	ldns_pkt_set_rcode(p, rcode);
	st = ldns_pkt2wire(out, p, outlen);
	ldns_pkt_free(p);
	return st == LDNS_STATUS_OK ? 0 : -ENOMEM;
}

/* Encode the reply, truncated to limit bytes: first without the additional section
 * (which may go without TC, RFC 2181 9), then with the question alone and TC. */
static int
encode(struct reply *r, size_t limit, uint8_t **out, size_t *outlen)
{
	for (int step = 0; step < 3; step++) {
		if (ldns_pkt2wire(out, r->p, outlen) != LDNS_STATUS_OK)
			return -ENOMEM;
		if (*outlen <= limit)
			return 0;
		free(*out);
		*out = NULL;
		if (step == 0) {
			clear_section(r->p, LDNS_SECTION_ADDITIONAL);
		} else {
			clear_section(r->p, LDNS_SECTION_ANSWER);
			clear_section(r->p, LDNS_SECTION_AUTHORITY);
			ldns_pkt_set_tc(r->p, true);
		}
	}
	return -EMSGSIZE;
}

int
dns_zone_answer(const struct dns_zone *z, const uint8_t *q, size_t qlen, int tcp,
    uint8_t **out, size_t *outlen)
{
	struct reply r = { NULL, 0 };
	ldns_pkt *query = NULL;
	ldns_rr *qrr;
	size_t limit = tcp ? LDNS_MAX_PACKETLEN : LDNS_MIN_BUFLEN;
	int rc;

	*out = NULL;
	*outlen = 0;
	/* Nothing to answer to without a header; never answer an answer (no loops). */
	if (qlen < LDNS_HEADER_SIZE || LDNS_QR_WIRE(q))
		return -EINVAL;
	if (LDNS_OPCODE_WIRE(q) != LDNS_PACKET_QUERY)
		return header_only(q, LDNS_RCODE_NOTIMPL, out, outlen);
	/* A query has one question, no answers and at most an OPT and a signature: the
	 * counts are checked before ldns parses, so huge ones cost nothing. */
	if (LDNS_QDCOUNT(q) != 1 || LDNS_ANCOUNT(q) != 0 || LDNS_NSCOUNT(q) > 1 ||
	    LDNS_ARCOUNT(q) > 2 || ldns_wire2pkt(&query, q, qlen) != LDNS_STATUS_OK ||
	    ldns_rr_list_rr_count(ldns_pkt_question(query)) != 1)
		goto formerr;
	qrr = ldns_rr_list_rr(ldns_pkt_question(query), 0);
	switch ((int)ldns_rr_get_type(qrr)) {
	case 0: case LDNS_RR_TYPE_OPT: case LDNS_RR_TYPE_TSIG: case LDNS_RR_TYPE_TKEY:
		goto formerr;		/* not something a question asks for */
	case LDNS_RR_TYPE_AXFR: case LDNS_RR_TYPE_IXFR: case LDNS_RR_TYPE_MAILA:
	case LDNS_RR_TYPE_MAILB:
		ldns_pkt_free(query);	/* zone transfers and mailbox queries: not here */
		return header_only(q, LDNS_RCODE_NOTIMPL, out, outlen);
	default:
		break;
	}
	r.p = ldns_pkt_new();
	if (r.p == NULL) {
		ldns_pkt_free(query);
		return -ENOMEM;
	}
	ldns_pkt_set_id(r.p, ldns_pkt_id(query));
	ldns_pkt_set_qr(r.p, true);
	ldns_pkt_set_aa(r.p, true);
	ldns_pkt_set_rd(r.p, ldns_pkt_rd(query));
	ldns_pkt_set_cd(r.p, ldns_pkt_cd(query));
	ldns_pkt_set_opcode(r.p, LDNS_PACKET_QUERY);
	ldns_pkt_set_rcode(r.p, LDNS_RCODE_NOERROR);
	if (!ldns_pkt_push_rr(r.p, LDNS_SECTION_QUESTION, qrr))
		r.nomem = 1;
	if (ldns_pkt_edns(query)) {
		ldns_pkt_set_edns_udp_size(r.p, DNS_EDNS_SIZE);
		ldns_pkt_set_edns_do(r.p, ldns_pkt_edns_do(query));
		if (!tcp && ldns_pkt_edns_udp_size(query) > limit)
			limit = ldns_pkt_edns_udp_size(query);
	}
	if (ldns_pkt_edns(query) && ldns_pkt_edns_version(query) != 0)
		/* BADVERS is extended rcode 16: 1 in the OPT's upper bits, 0 in the header. */
		ldns_pkt_set_edns_extended_rcode(r.p, 1);
	else
		lookup(z, &r, qrr);
	rc = r.nomem ? -ENOMEM : encode(&r, limit, out, outlen);
	reply_free(&r);
	ldns_pkt_free(query);
	return rc;
formerr:
	ldns_pkt_free(query);
	return header_only(q, LDNS_RCODE_FORMERR, out, outlen);
}
