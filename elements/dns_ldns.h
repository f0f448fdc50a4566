/* dns_ldns.h - ldns for the DNS element, loaded on first use (dlopen) instead of at
 * start: libldns brings libssl and libcrypto, and their loading and relocation cost
 * every server about 2 MB of RSS whether it ever serves DNS or not.  mkdns loads it
 * (dns_ldns_load), so a missing library fails that mkdns, not the server.
 *
 * Include this instead of <ldns/ldns.h>: it declares the same API and turns each
 * function the DNS element calls (and the one variable it uses, the red-black tree's
 * null node) into a use through a pointer looked up at load.  Using a symbol not in
 * DNS_LDNS_FUNCS is a link error (circuit links no -lldns): add it to the list.
 */
#ifndef CIRCUIT_DNS_LDNS_H
#define CIRCUIT_DNS_LDNS_H

#include <ldns/ldns.h>

#define DNS_LDNS_FUNCS(X) \
	X(ldns_dname_cat) \
	X(ldns_dname_compare) \
	X(ldns_dname_is_subdomain) \
	X(ldns_dname_label_count) \
	X(ldns_dname_left_chop) \
	X(ldns_dname_new_frm_str) \
	X(ldns_dname_str_absolute) \
	X(ldns_get_errorstr_by_id) \
	X(ldns_pkt2wire) \
	X(ldns_pkt_additional) \
	X(ldns_pkt_answer) \
	X(ldns_pkt_arcount) \
	X(ldns_pkt_authority) \
	X(ldns_pkt_cd) \
	X(ldns_pkt_edns) \
	X(ldns_pkt_edns_do) \
	X(ldns_pkt_edns_udp_size) \
	X(ldns_pkt_edns_version) \
	X(ldns_pkt_free) \
	X(ldns_pkt_id) \
	X(ldns_pkt_new) \
	X(ldns_pkt_push_rr) \
	X(ldns_pkt_question) \
	X(ldns_pkt_rd) \
	X(ldns_pkt_set_aa) \
	X(ldns_pkt_set_ancount) \
	X(ldns_pkt_set_arcount) \
	X(ldns_pkt_set_cd) \
	X(ldns_pkt_set_edns_do) \
	X(ldns_pkt_set_edns_extended_rcode) \
	X(ldns_pkt_set_edns_udp_size) \
	X(ldns_pkt_set_id) \
	X(ldns_pkt_set_nscount) \
	X(ldns_pkt_set_opcode) \
	X(ldns_pkt_set_qr) \
	X(ldns_pkt_set_rcode) \
	X(ldns_pkt_set_rd) \
	X(ldns_pkt_set_tc) \
	X(ldns_rbtree_create) \
	X(ldns_rbtree_delete) \
	X(ldns_rbtree_find_less_equal) \
	X(ldns_rbtree_first) \
	X(ldns_rbtree_free) \
	X(ldns_rbtree_insert) \
	X(ldns_rbtree_next) \
	X(ldns_rbtree_null_node) \
	X(ldns_rbtree_search) \
	X(ldns_rdf2str) \
	X(ldns_rdf_clone) \
	X(ldns_rdf_compare) \
	X(ldns_rdf_deep_free) \
	X(ldns_rdf_get_type) \
	X(ldns_rr2str) \
	X(ldns_rr_compare_no_rdata) \
	X(ldns_rr_free) \
	X(ldns_rr_get_class) \
	X(ldns_rr_get_type) \
	X(ldns_rr_list_contains_rr) \
	X(ldns_rr_list_deep_free) \
	X(ldns_rr_list_new) \
	X(ldns_rr_list_push_rr) \
	X(ldns_rr_list_rr) \
	X(ldns_rr_list_rr_count) \
	X(ldns_rr_list_set_rr) \
	X(ldns_rr_list_set_rr_count) \
	X(ldns_rr_new_frm_str) \
	X(ldns_rr_owner) \
	X(ldns_rr_rd_count) \
	X(ldns_rr_rdf) \
	X(ldns_str2rdf_dname) \
	X(ldns_traverse_postorder) \
	X(ldns_wire2pkt)

struct dns_ldns {
#define DNS_LDNS_FIELD(f) __typeof__(f) *p_##f;
	DNS_LDNS_FUNCS(DNS_LDNS_FIELD)
#undef DNS_LDNS_FIELD
};

extern struct dns_ldns dns_ldns;
extern int dns_ldns_loaded;

/* Load libldns and look up every function: 0, or -ELIBACC with the reason in err.
 * Once loaded it stays. */
int dns_ldns_load(char *err, size_t errsize);

/* For a call before any mkdns loaded the library (the unit tests): load it now, or
 * say why and abort, as the dynamic linker would have at start. */
void dns_ldns_need(void);

#define DNS_LDNS(f) (*(dns_ldns_loaded ? dns_ldns.p_##f : (dns_ldns_need(), dns_ldns.p_##f)))

#ifndef DNS_LDNS_IMPL
#define ldns_dname_cat DNS_LDNS(ldns_dname_cat)
#define ldns_dname_compare DNS_LDNS(ldns_dname_compare)
#define ldns_dname_is_subdomain DNS_LDNS(ldns_dname_is_subdomain)
#define ldns_dname_label_count DNS_LDNS(ldns_dname_label_count)
#define ldns_dname_left_chop DNS_LDNS(ldns_dname_left_chop)
#define ldns_dname_new_frm_str DNS_LDNS(ldns_dname_new_frm_str)
#define ldns_dname_str_absolute DNS_LDNS(ldns_dname_str_absolute)
#define ldns_get_errorstr_by_id DNS_LDNS(ldns_get_errorstr_by_id)
#define ldns_pkt2wire DNS_LDNS(ldns_pkt2wire)
#define ldns_pkt_additional DNS_LDNS(ldns_pkt_additional)
#define ldns_pkt_answer DNS_LDNS(ldns_pkt_answer)
#define ldns_pkt_arcount DNS_LDNS(ldns_pkt_arcount)
#define ldns_pkt_authority DNS_LDNS(ldns_pkt_authority)
#define ldns_pkt_cd DNS_LDNS(ldns_pkt_cd)
#define ldns_pkt_edns DNS_LDNS(ldns_pkt_edns)
#define ldns_pkt_edns_do DNS_LDNS(ldns_pkt_edns_do)
#define ldns_pkt_edns_udp_size DNS_LDNS(ldns_pkt_edns_udp_size)
#define ldns_pkt_edns_version DNS_LDNS(ldns_pkt_edns_version)
#define ldns_pkt_free DNS_LDNS(ldns_pkt_free)
#define ldns_pkt_id DNS_LDNS(ldns_pkt_id)
#define ldns_pkt_new DNS_LDNS(ldns_pkt_new)
#define ldns_pkt_push_rr DNS_LDNS(ldns_pkt_push_rr)
#define ldns_pkt_question DNS_LDNS(ldns_pkt_question)
#define ldns_pkt_rd DNS_LDNS(ldns_pkt_rd)
#define ldns_pkt_set_aa DNS_LDNS(ldns_pkt_set_aa)
#define ldns_pkt_set_ancount DNS_LDNS(ldns_pkt_set_ancount)
#define ldns_pkt_set_arcount DNS_LDNS(ldns_pkt_set_arcount)
#define ldns_pkt_set_cd DNS_LDNS(ldns_pkt_set_cd)
#define ldns_pkt_set_edns_do DNS_LDNS(ldns_pkt_set_edns_do)
#define ldns_pkt_set_edns_extended_rcode DNS_LDNS(ldns_pkt_set_edns_extended_rcode)
#define ldns_pkt_set_edns_udp_size DNS_LDNS(ldns_pkt_set_edns_udp_size)
#define ldns_pkt_set_id DNS_LDNS(ldns_pkt_set_id)
#define ldns_pkt_set_nscount DNS_LDNS(ldns_pkt_set_nscount)
#define ldns_pkt_set_opcode DNS_LDNS(ldns_pkt_set_opcode)
#define ldns_pkt_set_qr DNS_LDNS(ldns_pkt_set_qr)
#define ldns_pkt_set_rcode DNS_LDNS(ldns_pkt_set_rcode)
#define ldns_pkt_set_rd DNS_LDNS(ldns_pkt_set_rd)
#define ldns_pkt_set_tc DNS_LDNS(ldns_pkt_set_tc)
#define ldns_rbtree_create DNS_LDNS(ldns_rbtree_create)
#define ldns_rbtree_delete DNS_LDNS(ldns_rbtree_delete)
#define ldns_rbtree_find_less_equal DNS_LDNS(ldns_rbtree_find_less_equal)
#define ldns_rbtree_first DNS_LDNS(ldns_rbtree_first)
#define ldns_rbtree_free DNS_LDNS(ldns_rbtree_free)
#define ldns_rbtree_insert DNS_LDNS(ldns_rbtree_insert)
#define ldns_rbtree_next DNS_LDNS(ldns_rbtree_next)
#define ldns_rbtree_null_node DNS_LDNS(ldns_rbtree_null_node)
#define ldns_rbtree_search DNS_LDNS(ldns_rbtree_search)
#define ldns_rdf2str DNS_LDNS(ldns_rdf2str)
#define ldns_rdf_clone DNS_LDNS(ldns_rdf_clone)
#define ldns_rdf_compare DNS_LDNS(ldns_rdf_compare)
#define ldns_rdf_deep_free DNS_LDNS(ldns_rdf_deep_free)
#define ldns_rdf_get_type DNS_LDNS(ldns_rdf_get_type)
#define ldns_rr2str DNS_LDNS(ldns_rr2str)
#define ldns_rr_compare_no_rdata DNS_LDNS(ldns_rr_compare_no_rdata)
#define ldns_rr_free DNS_LDNS(ldns_rr_free)
#define ldns_rr_get_class DNS_LDNS(ldns_rr_get_class)
#define ldns_rr_get_type DNS_LDNS(ldns_rr_get_type)
#define ldns_rr_list_contains_rr DNS_LDNS(ldns_rr_list_contains_rr)
#define ldns_rr_list_deep_free DNS_LDNS(ldns_rr_list_deep_free)
#define ldns_rr_list_new DNS_LDNS(ldns_rr_list_new)
#define ldns_rr_list_push_rr DNS_LDNS(ldns_rr_list_push_rr)
#define ldns_rr_list_rr DNS_LDNS(ldns_rr_list_rr)
#define ldns_rr_list_rr_count DNS_LDNS(ldns_rr_list_rr_count)
#define ldns_rr_list_set_rr DNS_LDNS(ldns_rr_list_set_rr)
#define ldns_rr_list_set_rr_count DNS_LDNS(ldns_rr_list_set_rr_count)
#define ldns_rr_new_frm_str DNS_LDNS(ldns_rr_new_frm_str)
#define ldns_rr_owner DNS_LDNS(ldns_rr_owner)
#define ldns_rr_rd_count DNS_LDNS(ldns_rr_rd_count)
#define ldns_rr_rdf DNS_LDNS(ldns_rr_rdf)
#define ldns_str2rdf_dname DNS_LDNS(ldns_str2rdf_dname)
#define ldns_traverse_postorder DNS_LDNS(ldns_traverse_postorder)
#define ldns_wire2pkt DNS_LDNS(ldns_wire2pkt)
#endif

#endif
