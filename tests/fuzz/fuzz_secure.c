/* fuzz_secure.c - libFuzzer target: the key handshake and the record decoder, fed
 * arbitrary bytes as the other side of a connection would send them: an AUTH frame,
 * then records.  A fixed key on our side; the other's keys are whatever the input
 * says, so records almost never open, which is what a hostile peer sees too.  A second
 * pass seals the input with a real session and checks it opens unchanged. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/secure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[SECURE_KEY_LEN] = { 1 }, mine[SECURE_AUTH_MAX], other[SECURE_AUTH_MAX];
	char saw[URL_ID_LEN + 1];
	struct secure_hs hs, hs2;
	struct secure s, s2;
	size_t alen, ml, ol, off;
	uint8_t *buf, *plain, *wire;

	if (size < 1 || secure_hs_start(&hs, key, 0, "X0123456789abcdef", mine, &ml) < 0)
		return 0;
	alen = data[0] % (SECURE_AUTH_MAX + 1);
	data++;
	size--;
	if (alen > size)
		alen = size;
	if (secure_hs_finish(&hs, data, alen, &s, saw) == 0) {
		if (saw[0] != '\0' && strlen(saw) != URL_ID_LEN)
			abort();
		buf = malloc(size - alen + 1);
		memcpy(buf, data + alen, size - alen);
		for (off = alen; off < size;) {
			size_t pl;
			long n = secure_open(&s.rx, buf + off - alen, size - off, 4096, &plain, &pl);
			if (n <= 0)
				break;
			if ((size_t)n > size - off || pl + SECURE_REC_OVER != (size_t)n)
				abort();
			off += (size_t)n;
		}
		free(buf);
		secure_wipe(&s);
	}
	/* A datagram: never opens without the key, never overruns. */
	if (size <= 1500) {
		static struct secure_replay rp;
		uint8_t out[1500];
		size_t ol;
		if (secure_dgram_open(key, &rp, 1700000000000ull, data, size, out, &ol) == 0)
			abort();
	}
	/* Round trip: whatever we seal, the other side opens unchanged. */
	if (size == 0 || secure_hs_start(&hs, key, 1, NULL, mine, &ml) < 0 ||
	    secure_hs_start(&hs2, key, 0, NULL, other, &ol) < 0)
		return 0;
	if (secure_hs_finish(&hs, other, ol, &s, saw) < 0 ||
	    secure_hs_finish(&hs2, mine, ml, &s2, saw) < 0)
		abort();
	wire = malloc(secure_sealed_len(size));
	ml = secure_seal(&s.tx, data, size, wire);
	for (off = 0, ol = 0; off < ml;) {
		size_t pl;
		long n = secure_open(&s2.rx, wire + off, ml - off, SECURE_REC_MAX, &plain, &pl);
		if (n <= 0 || memcmp(plain, data + ol, pl) != 0)
			abort();
		off += (size_t)n;
		ol += pl;
	}
	if (ol != size)
		abort();
	free(wire);
	secure_wipe(&s);
	secure_wipe(&s2);
	return 0;
}
