/* dkr_spec.c - the container spec JSON, parsed strictly into the argv of `docker create`.
 *
 * `{"Image": "busybox", "Memory": 1000000000, "CpuShares": 3, "Lxc": [], "Volume":
 * ["/data", "/src:/opt/src:ro"], "Dir": "/", "Entry": "", "Env": ["K=V"], "Path":
 * "/bin/ls", "Args": ["/"], "Scrub": false}`: only Image is required.  As with a
 * process's Cmd, a typo or a wrong type is -EINVAL naming the field, never a
 * different container than the one meant.  Every value reaches the client as one
 * `--flag=value` argument, and the image follows `--`, so no value can pass for a flag.
 * Lxc options are refused: the engine dropped its LXC driver (Docker 1.10).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "elements/dkr.h"
#include "elements/spec.h"

/* Most entries of one array field (Volume, Env, Args). */
#define SPEC_MAX_ITEMS 1024

static const char *const fields[] = { "Image", "Memory", "CpuShares", "Lxc", "Volume",
	"Dir", "Entry", "Env", "Path", "Args", "Scrub", NULL };

/* The argv being built; oom once an allocation failed (then add does nothing). */
struct argv {
	char **v;
	size_t n, cap;
	int oom;
};

static void
add(struct argv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
add(struct argv *s, const char *fmt, ...)
{
	va_list ap;
	char *str;
	int n;

	if (s->oom)
		return;
	if (s->n + 2 > s->cap) {
		size_t ncap = s->cap == 0 ? 32 : s->cap * 2;
		char **nv = realloc(s->v, ncap * sizeof *nv);
		if (nv == NULL) {
			s->oom = 1;
			return;
		}
		s->v = nv;
		s->cap = ncap;
	}
	va_start(ap, fmt);
	n = vasprintf(&str, fmt, ap);
	va_end(ap);
	if (n < 0) {
		s->oom = 1;
		return;
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
}

static int
fail(char *err, size_t errsize, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
absent(json_t *v)
{
	return v == NULL || json_is_null(v);
}

/* An optional string field: 0 (*out NULL if absent or ""), or -EINVAL. */
static int
get_str(json_t *o, const char *key, const char **out, char *err, size_t errsize)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (absent(v))
		return 0;
	if (!json_is_string(v))
		return fail(err, errsize, "mkdkr: \"%s\" must be a string", key);
	if (json_string_length(v) > 0)
		*out = json_string_value(v);
	return 0;
}

/* An optional array of strings, copied: 0 (*out NULL if absent, else a vector of
 * *n strings to free with spec_strv_free), -EINVAL, or -ENOMEM. */
static int
get_arr(json_t *o, const char *key, char ***out, size_t *n, char *err, size_t errsize)
{
	json_t *v = json_object_get(o, key);
	int rc;

	*out = NULL;
	*n = 0;
	if (absent(v))
		return 0;
	rc = spec_strv(v, SPEC_MAX_ITEMS, out, n);
	if (rc == -E2BIG)
		return fail(err, errsize, "mkdkr: \"%s\" must be an array of at most %d strings",
		    key, SPEC_MAX_ITEMS);
	if (rc == -EINVAL)
		return fail(err, errsize, "mkdkr: \"%s\" must be an array of strings", key);
	if (rc == -ENOMEM)
		snprintf(err, errsize, "mkdkr: out of memory");
	return rc;
}

/* An optional integer >= 0: 0 (*out 0 if absent), or -EINVAL. */
static int
get_int(json_t *o, const char *key, json_int_t *out, char *err, size_t errsize)
{
	json_t *v = json_object_get(o, key);

	*out = 0;
	if (absent(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fail(err, errsize, "mkdkr: \"%s\" must be an integer >= 0", key);
	*out = json_integer_value(v);
	return 0;
}

int
dkr_spec_parse(const char *text, const char *const *labels, char ***argv, int *scrub,
    char *err, size_t errsize)
{
	const char *image, *dir, *entry, *path, *bad;
	char **volume = NULL, **env = NULL, **args = NULL, **lxc = NULL, **p;
	size_t nvolume, nenv, nargs, nlxc;
	json_int_t memory, shares;
	json_error_t jerr;
	json_t *o, *v;
	struct argv s = { 0 };
	int rc;

	o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		return fail(err, errsize, "mkdkr: bad JSON: %s (line %d)", jerr.text, jerr.line);
	rc = -EINVAL;
	if (!json_is_object(o)) {
		fail(err, errsize, "mkdkr: the spec must be a JSON object");
		goto out;
	}
	if ((rc = spec_fields(o, fields, "mkdkr", err, errsize)) < 0 ||
	    (rc = get_str(o, "Image", &image, err, errsize)) < 0 ||
	    (rc = get_str(o, "Dir", &dir, err, errsize)) < 0 ||
	    (rc = get_str(o, "Entry", &entry, err, errsize)) < 0 ||
	    (rc = get_str(o, "Path", &path, err, errsize)) < 0 ||
	    (rc = get_arr(o, "Volume", &volume, &nvolume, err, errsize)) < 0 ||
	    (rc = get_arr(o, "Env", &env, &nenv, err, errsize)) < 0 ||
	    (rc = get_arr(o, "Args", &args, &nargs, err, errsize)) < 0 ||
	    (rc = get_arr(o, "Lxc", &lxc, &nlxc, err, errsize)) < 0 ||
	    (rc = get_int(o, "Memory", &memory, err, errsize)) < 0 ||
	    (rc = get_int(o, "CpuShares", &shares, err, errsize)) < 0)
		goto out;
	rc = -EINVAL;
	v = json_object_get(o, "Scrub");
	if (!absent(v) && !json_is_boolean(v)) {
		fail(err, errsize, "mkdkr: \"Scrub\" must be true or false");
		goto out;
	}
	*scrub = json_is_true(v);
	if (image == NULL || image[0] == '-') {
		fail(err, errsize, "mkdkr: \"Image\" must be an image name (required)");
		goto out;
	}
	if (nlxc > 0) {
		fail(err, errsize, "mkdkr: \"Lxc\" options are not supported: the docker engine "
		    "dropped its LXC driver (use Memory and CpuShares)");
		goto out;
	}
	if ((bad = spec_env_bad(env)) != NULL) {
		fail(err, errsize, "mkdkr: \"Env\" entries must be KEY=VALUE, not \"%.64s\"", bad);
		goto out;
	}
	for (p = volume; p != NULL && *p != NULL; p++) {
		if (**p == '\0') {
			fail(err, errsize, "mkdkr: \"Volume\" entries must not be empty");
			goto out;
		}
	}

	add(&s, "docker");
	add(&s, "create");
	add(&s, "--interactive");
	add(&s, "--pull=never");
	for (const char *const *l = labels; *l != NULL; l++)
		add(&s, "--label=%s", *l);
	if (memory > 0)
		add(&s, "--memory=%" JSON_INTEGER_FORMAT, memory);
	if (shares > 0)
		add(&s, "--cpu-shares=%" JSON_INTEGER_FORMAT, shares);
	for (p = volume; p != NULL && *p != NULL; p++)
		add(&s, "--volume=%s", *p);
	if (dir != NULL)
		add(&s, "--workdir=%s", dir);
	if (entry != NULL)
		add(&s, "--entrypoint=%s", entry);
	for (p = env; p != NULL && *p != NULL; p++)
		add(&s, "--env=%s", *p);
	add(&s, "--");
	add(&s, "%s", image);
	if (path != NULL)
		add(&s, "%s", path);
	for (p = args; p != NULL && *p != NULL; p++)
		add(&s, "%s", *p);
	if (s.oom) {
		spec_strv_free(s.v);
		snprintf(err, errsize, "mkdkr: out of memory");
		rc = -ENOMEM;
		goto out;
	}
	*argv = s.v;
	rc = 0;
out:
	spec_strv_free(volume);
	spec_strv_free(env);
	spec_strv_free(args);
	spec_strv_free(lxc);
	json_decref(o);
	return rc;
}
