/* dns_ldns.c - load ldns when the first DNS element is made (see dns_ldns.h). */
#define DNS_LDNS_IMPL
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "elements/dns_ldns.h"

/* The soname of the ldns whose headers this is built with (Debian 12: ldns 1.8). */
#define LDNS_SONAME "libldns.so.3"

struct dns_ldns dns_ldns;
int dns_ldns_loaded;

int
dns_ldns_load(char *err, size_t errsize)
{
	void *h;

	if (dns_ldns_loaded)
		return 0;
	if ((h = dlopen(LDNS_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errsize, "%s", dlerror());
		return -ELIBACC;
	}
	/* A missing symbol leaves the library loaded but unused: it stays mapped, as a
	 * library linked at start would, and the next mkdns fails the same way. */
#define DNS_LDNS_SYM(f) \
	if ((dns_ldns.p_##f = (__typeof__(f) *)dlsym(h, #f)) == NULL) { \
		snprintf(err, errsize, "%s: %s", LDNS_SONAME, dlerror()); \
		return -ELIBACC; \
	}
	DNS_LDNS_FUNCS(DNS_LDNS_SYM)
#undef DNS_LDNS_SYM
	dns_ldns_loaded = 1;
	return 0;
}

void
dns_ldns_need(void)
{
	char err[512];

	if (dns_ldns_load(err, sizeof err) < 0) {
		fprintf(stderr, "circuit: ldns: %s\n", err);
		abort();
	}
}
