/* test_log_clean.c - outside text made safe and bounded for the log and `error`. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "elements/log.h"

static void
expect_clean(const char *in, size_t max, const char *want)
{
	char *got = log_clean(in, max);

	cr_assert_not_null(got);
	cr_assert_str_eq(got, want);
	free(got);
}

Test(log_clean, escapes)
{
	expect_clean("plain text: ok", 256, "plain text: ok");
	expect_clean("a\nb\rc\td", 256, "a\\nb\\rc\\td");
	expect_clean("\x1b[2J\x07\x7f", 256, "\\x1b[2J\\x07\\x7f");
	expect_clean("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 256, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* C1 CSI as UTF-8, a raw CSI byte, a lone continuation, an overlong, a cut one */
	expect_clean("\xc2\x9b" "1m", 256, "\\xc2\\x9b1m");
	expect_clean("\x9b" "1m", 256, "\\x9b1m");
	expect_clean("\xc0\xaf \xe0\x80\xaf \xe2\x82", 256, "\\xc0\\xaf \\xe0\\x80\\xaf \\xe2\\x82");
	expect_clean("back\\slash", 256, "back\\slash");
}

Test(log_clean, bounded_head_and_tail)
{
	size_t n = 1 << 20;
	char *big = malloc(n + 32), *got, *again;

	memset(big, 'x', n);
	strcpy(big + n, ": unknown verb");
	got = log_clean(big, 256);
	cr_assert_eq(strlen(got), 256);
	cr_assert(strncmp(got, "xxxx", 4) == 0);
	cr_assert(strstr(got, "x...x") != NULL, "%s", got);
	cr_assert(strcmp(got + 256 - 14, ": unknown verb") == 0, "%s", got);
	/* Clean text is a fixed point: cleaning twice changes nothing. */
	again = log_clean(got, 256);
	cr_assert_str_eq(again, got);
	free(again);
	free(got);
	/* The cut never splits an escape or a UTF-8 character. */
	for (size_t i = 0; i < n; i += 2)
		memcpy(big + i, i % 4 ? "\xc3\xa9" : "\x01\x02", 2);
	big[n] = '\0';
	got = log_clean(big, 256);
	cr_assert_leq(strlen(got), 256);
	again = log_clean(got, 1024);
	cr_assert_str_eq(again, got, "no byte of a cut unit was left to escape");
	free(again);
	free(got);
	free(big);
}
