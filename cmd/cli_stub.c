/* cli_stub.c - stand-ins for the client library until net/client.c is linked in.
 *
 * Every function is weak: the real definitions in net/client.c replace them at link
 * time, and until then the CLI builds, parses and explains itself, and each dialing
 * command fails with a clear message instead of an undefined symbol.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/client.h"

#define WEAK __attribute__((weak))

static int
missing(char **err)
{
	if (err != NULL)
		*err = strdup("this circuit was built without the client library (net/client.c)");
	return -ENOSYS;
}

WEAK int
circuit_dial(const char *url, const char *keyfile, struct circuit **out, char **err)
{
	*out = NULL;
	return missing(err);
}

WEAK void
circuit_close(struct circuit *c)
{
}

WEAK int
circuit_stat(struct circuit *c, const char *path, json_t **out, char **err)
{
	return missing(err);
}

WEAK int
circuit_list(struct circuit *c, const char *path, json_t **out, char **err)
{
	return missing(err);
}

WEAK int
circuit_mkdir(struct circuit *c, const char *path, char **err)
{
	return missing(err);
}

WEAK int
circuit_rmdir(struct circuit *c, const char *path, char **err)
{
	return missing(err);
}

WEAK int
circuit_ctl(struct circuit *c, const char *path, const char *command, char **err)
{
	return missing(err);
}

WEAK int
circuit_snap(struct circuit *c, const char *path, const char *file, char **data,
    size_t *len, char **err)
{
	return missing(err);
}

WEAK int
circuit_open(struct circuit *c, const char *path, const char *file, int mode,
    struct circuit_stream **out, char **err)
{
	return missing(err);
}

WEAK ssize_t
circuit_read(struct circuit_stream *s, void *buf, size_t max, char **err)
{
	return missing(err);
}

WEAK ssize_t
circuit_write(struct circuit_stream *s, const void *buf, size_t len, char **err)
{
	return missing(err);
}

WEAK int
circuit_stream_close(struct circuit_stream *s, char **err)
{
	return missing(err);
}
