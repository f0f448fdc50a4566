/* fuzz_membership.c - libFuzzer target for the membership datagram decoder
 * and for a core receiving whatever the decoder accepts.
 *
 *   make fuzz && build-fuzz/fuzz_membership -max_total_time=30
 */
#include <stdint.h>
#include <string.h>

#include "net/membership.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
nosend(void *ctx, const mb_addr *to, const uint8_t *buf, size_t len)
{
	(void)ctx;
	(void)to;
	(void)buf;
	(void)len;
}

static uint64_t
rnd(void *ctx)
{
	uint64_t *s = ctx;

	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 11;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mb *mb;
	static uint64_t seed = 1;
	static int64_t now;
	struct mb_msg m;
	uint8_t buf[MB_MAX_DATAGRAM];
	mb_addr from;
	int len;

	if (mb_decode(data, size, &m) == 0) {
		/* What decodes must encode back to the same bytes. */
		len = mb_encode(&m, buf, sizeof(buf));
		if (len != (int)size || memcmp(buf, data, size) != 0)
			__builtin_trap();
	}
	if (mb == NULL) {
		struct mb_callbacks cb = { nosend, NULL, rnd, &seed };
		mb_addr self;

		memset(&self, 0, sizeof(self));
		self.family = MB_AF_INET;
		self.ip[0] = 10;
		self.port = 7946;
		if (mb_create(&mb, NULL, 1, &self, &cb, 0) < 0)
			return 0;
	}
	memset(&from, 0, sizeof(from));
	from.family = MB_AF_INET;
	from.ip[0] = 10;
	from.ip[3] = size ? data[size - 1] : 0;
	from.port = 7946;
	now += 7;
	mb_receive(mb, now, &from, data, size);
	if (mb_next_deadline(mb) <= now)
		mb_tick(mb, now);
	return 0;
}
