/* test_dkr_spec.c - the container spec JSON: strict parsing into `docker create` argv. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "elements/dkr.h"
#include "elements/spec.h"

static const char *const labels[] = { "circuit.server=X0123456789abcdef", NULL };
static char err[512];

/* The argv of text joined by spaces, or NULL on failure (rc in *rc). */
static char *
joined(const char *text, int *rc, int *scrub)
{
	char **argv = NULL, *s;
	size_t n = 1;

	err[0] = '\0';
	*rc = dkr_spec_parse(text, labels, &argv, scrub, err, sizeof err);
	if (*rc < 0)
		return NULL;
	for (char **p = argv; *p != NULL; p++)
		n += strlen(*p) + 1;
	s = calloc(1, n);
	for (char **p = argv; *p != NULL; p++) {
		strcat(s, *p);
		if (p[1] != NULL)
			strcat(s, " ");
	}
	spec_strv_free(argv);
	return s;
}

static void
bad(const char *text, const char *msg)
{
	int rc, scrub = 0;
	char *s = joined(text, &rc, &scrub);

	cr_assert_null(s, "%s: parsed as %s", text, s);
	cr_assert_eq(rc, -EINVAL, "%s: rc %d", text, rc);
	cr_assert(strstr(err, msg) != NULL, "%s: message %s, wanted %s", text, err, msg);
	cr_assert(strchr(err, '\n') == NULL, "one line: %s", err);
}

Test(dkr_spec, minimal)
{
	int rc, scrub = 1;
	char *s = joined("{\"Image\": \"busybox\"}", &rc, &scrub);

	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(s, "docker create --interactive --pull=never "
	    "--label=circuit.server=X0123456789abcdef -- busybox");
	cr_assert_eq(scrub, 0);
	free(s);
}

Test(dkr_spec, every_field)
{
	int rc, scrub = 0;
	char *s = joined("{\"Image\": \"ubuntu\", \"Memory\": 1000000000, \"CpuShares\": 3, "
	    "\"Lxc\": [], \"Volume\": [\"/webapp\", \"/src/webapp:/opt/webapp:ro\"], \"Dir\": \"/\", "
	    "\"Entry\": \"\", \"Env\": [\"PATH=/usr/bin\"], \"Path\": \"/bin/ls\", "
	    "\"Args\": [\"-l\", \"--\", \"/\"], \"Scrub\": true}", &rc, &scrub);

	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(s, "docker create --interactive --pull=never "
	    "--label=circuit.server=X0123456789abcdef --memory=1000000000 --cpu-shares=3 "
	    "--volume=/webapp --volume=/src/webapp:/opt/webapp:ro --workdir=/ "
	    "--env=PATH=/usr/bin -- ubuntu /bin/ls -l -- /");
	cr_assert_eq(scrub, 1);
	free(s);
}

Test(dkr_spec, values_never_pass_for_flags)
{
	int rc, scrub;
	char *s = joined("{\"Image\": \"b\", \"Entry\": \"--privileged\", \"Dir\": \"-x\", "
	    "\"Env\": [\"A=--net=host\"], \"Path\": \"--rm\"}", &rc, &scrub);

	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(s, "docker create --interactive --pull=never "
	    "--label=circuit.server=X0123456789abcdef --workdir=-x --entrypoint=--privileged "
	    "--env=A=--net=host -- b --rm");
	free(s);
}

Test(dkr_spec, refused)
{
	bad("{\"Image\": \"b\", \"Lxc\": [\"lxc.cgroup.cpuset.cpus = 0,1\"]}", "dropped its LXC driver");
	bad("{\"Path\": \"/bin/ls\"}", "\"Image\" must be an image name");
	bad("{\"Image\": \"\"}", "\"Image\" must be an image name");
	bad("{\"Image\": \"--privileged\"}", "\"Image\" must be an image name");
	bad("{\"Image\": 3}", "\"Image\" must be a string");
	bad("{\"Image\": \"b\", \"Memory\": -1}", "\"Memory\" must be an integer >= 0");
	bad("{\"Image\": \"b\", \"Memory\": \"1g\"}", "\"Memory\" must be an integer >= 0");
	bad("{\"Image\": \"b\", \"CpuShares\": 1.5}", "\"CpuShares\" must be an integer >= 0");
	bad("{\"Image\": \"b\", \"Args\": \"ls\"}", "\"Args\" must be an array");
	bad("{\"Image\": \"b\", \"Env\": [\"NOEQUALS\"]}", "KEY=VALUE");
	bad("{\"Image\": \"b\", \"Env\": [1]}", "\"Env\" must be an array of strings");
	bad("{\"Image\": \"b\", \"Volume\": [\"\"]}", "\"Volume\" entries must not be empty");
	bad("{\"Image\": \"b\", \"Scrub\": 1}", "\"Scrub\" must be true or false");
	bad("{\"Image\": \"b\", \"Cmd\": []}", "unknown field \"Cmd\"");
	bad("{\"Image\": \"b\", \"Image\": \"c\"}", "bad JSON");
	bad("[\"b\"]", "must be a JSON object");
	bad("{\"Image\": ", "bad JSON");
}

Test(dkr_spec, arrays_are_bounded)
{
	char text[8192];
	size_t n;

	n = (size_t)snprintf(text, sizeof text, "{\"Image\": \"b\", \"Args\": [");
	for (int i = 0; i < 1025; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "%s\"a\"", i == 0 ? "" : ",");
	snprintf(text + n, sizeof text - n, "]}");
	bad(text, "mkdkr: \"Args\" must be an array of at most 1024 strings");
	bad("{\"Image\": \"b\", \"Cmd\": []}", "mkdkr: unknown field \"Cmd\" (known: Image, Memory, "
	    "CpuShares, Lxc, Volume, Dir, Entry, Env, Path, Args, Scrub)");
}
