/* cmd.h - the Cmd of a process element: its JSON form, parsed strictly and formatted back.
 *
 * `{"Path": "/bin/ls", "Args": ["/"], "Env": ["K=V"], "Dir": "/tmp", "Scrub": false}`:
 * only Path is required.  Args do not include argv[0] (that is Path).  An absent
 * (or null) Env means "inherit the server's environment"; a present one, even [],
 * is exactly the child's environment.  An absent, null or empty Dir means the
 * server's working directory.
 */
#ifndef CIRCUIT_ELEMENTS_CMD_H
#define CIRCUIT_ELEMENTS_CMD_H

#include <stddef.h>
#include <jansson.h>

struct cmd {
	char *path;		/* the program; never NULL or empty once parsed */
	char **args;		/* nargs arguments after argv[0], NULL-terminated */
	size_t nargs;
	char **env;		/* NULL: inherit; else nenv "K=V" strings, NULL-terminated */
	size_t nenv;
	char *dir;		/* working directory, or NULL */
	int scrub;		/* remove the element when the process exits */
};

/* Parse the JSON text into c (zeroed first): 0, -EINVAL with a one-line message in
 * err (e.g. `mkproc: "Args" must be an array of strings`), or -ENOMEM; on failure c
 * holds nothing to free. */
int cmd_parse(const char *text, struct cmd *c, char *err, size_t errsize);

/* The Cmd as a JSON object (new reference; Env null when inherited, Dir "" when unset), or NULL. */
json_t *cmd_json(const struct cmd *c);

/* Free what c holds and zero it; safe on a zeroed or already freed cmd. */
void cmd_free(struct cmd *c);

#endif
