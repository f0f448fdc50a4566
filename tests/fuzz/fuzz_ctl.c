/* fuzz_ctl.c - libFuzzer target for the decoders of ctl commands: the command split,
 * the Cmd JSON of mkproc and the capacity of mkchan.  None may crash, leak or accept
 * what it then cannot format back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elements/chan.h"
#include "elements/cmd.h"
#include "elements/local.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *verb, *arg, err[256];
	struct cmd c;
	int cap;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (local_split_ctl(text, &verb, &arg) == 0) {
		memset(&c, 0, sizeof c);
		if (cmd_parse(arg, &c, err, sizeof err) == 0) {
			json_t *j = cmd_json(&c);
			if (j == NULL || c.path == NULL || c.path[0] == '\0')
				abort();
			json_decref(j);
		}
		cmd_free(&c);
		if (chan_parse_cap(arg, &cap) == 0 && (cap < 0 || cap > CHAN_CAP_MAX))
			abort();
	}
	free(text);
	return 0;
}
