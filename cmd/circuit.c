/* circuit.c - the `circuit` program: `start` runs a server, the rest are clients. */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "cmd/cmd.h"

static const char usage[] =
"usage: circuit COMMAND [flags] [args]\n"
"\n"
"  start     run a server (circuit start -h for its flags)\n"
"  keygen    print a new random cluster key\n"
"  help      this text\n"
"\n"
"The whole cluster is also a file system: mount it with `mount.circuit DIR` or\n"
"`circuit start -m DIR`, then read DIR/help.\n";

static int
keygen(void)
{
	unsigned char key[32];
	char hex[65];

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(key, sizeof key);
	sodium_bin2hex(hex, sizeof hex, key, sizeof key);
	printf("%s\n", hex);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "start") == 0)
		return cmd_start(argc - 1, argv + 1);
	if (strcmp(argv[1], "keygen") == 0)
		return keygen();
	fprintf(stderr, "circuit: unknown command %s (try circuit help)\n", argv[1]);
	return 2;
}
