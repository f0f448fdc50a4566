/* fuzz_ctl.c - libFuzzer target for the decoders of ctl commands: the command split,
 * the Cmd JSON of mkproc, the container spec of mkdkr and the capacity of mkchan.
 * None may crash, leak or accept what it then cannot format back; no spec may put
 * anything but flags before the image. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elements/chan.h"
#include "elements/cmd.h"
#include "elements/dkr.h"
#include "elements/local.h"
#include "elements/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_dkr_spec(const char *arg)
{
	static const char *const labels[] = { "circuit.server=X0123456789abcdef", NULL };
	char **argv = NULL, err[256];
	int scrub, i;

	if (dkr_spec_parse(arg, labels, &argv, &scrub, err, sizeof err) < 0)
		return;
	if (strcmp(argv[0], "docker") != 0 || strcmp(argv[1], "create") != 0)
		abort();
	for (i = 2; strcmp(argv[i], "--") != 0; i++)
		if (strncmp(argv[i], "--", 2) != 0 ||
		    (strchr(argv[i], '=') == NULL && strcmp(argv[i], "--interactive") != 0))
			abort();	/* a value that passed for a flag */
	if (argv[i + 1] == NULL || argv[i + 1][0] == '-')
		abort();
	spec_strv_free(argv);
}

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
		check_dkr_spec(arg);
		if (chan_parse_cap(arg, &cap) == 0 && (cap < 0 || cap > CHAN_CAP_MAX))
			abort();
	}
	free(text);
	return 0;
}
