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

int
cmd_keygen(void)
{
	unsigned char key[32];
	char hex[65];

	if (sodium_init() < 0) {
		fputs("circuit keygen: libsodium does not initialise\n", stderr);
		return 1;
	}
	randombytes_buf(key, sizeof key);
	sodium_bin2hex(hex, sizeof hex, key, sizeof key);
	sodium_memzero(key, sizeof key);
	printf("%s\n", hex);
	return 0;
}

int
main(int argc, char **argv)
{
	/* start takes its own flags, which the client parser does not know. */
	if (argc >= 2 && strcmp(argv[1], "start") == 0)
		return cmd_start(argc - 1, argv + 1);
	return cli_main(argc, argv);
}
