/* circuit.c - the `circuit` program: `start` runs a server, the rest are clients.
 *
 * The client commands (cmd/cli*.c) never touch the server code linked in beside
 * them: they start nothing at load time, so a `circuit peek` costs one dial and one
 * round trip.
 */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "cmd/cli.h"
#include "cmd/cmd.h"
#include "net/key.h"

int
cmd_keygen(void)
{
	char text[66];

	if (key_generate(text) < 0) {
		fputs("circuit keygen: libsodium does not initialise\n", stderr);
		return 1;
	}
	fputs(text, stdout);
	sodium_memzero(text, sizeof text);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	/* start takes its own flags, which the client parser does not know. */
	if (argc >= 2 && strcmp(argv[1], "start") == 0)
		return cmd_start(argc - 1, argv + 1);
	return cli_main(argc, argv);
}
