/* cmd.c - parse and format the Cmd JSON of a process element (jansson).
 *
 * Parsing is strict on purpose: a typo in a field name ("Arg") or a number where a
 * string belongs would otherwise start a different process than the user meant.
 * Every failure is -EINVAL with one line naming the field at fault.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/cmd.h"
#include "elements/spec.h"

static const char *const fields[] = { "Path", "Args", "Env", "Dir", "Scrub", NULL };

static int
fail(char *err, size_t errsize, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errsize, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errsize > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errsize, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Check every field's presence and type before copying anything. */
static int
check(json_t *o, char *err, size_t errsize)
{
	json_t *v;

	if (spec_fields(o, fields, "mkproc", err, errsize) < 0)
		return -EINVAL;
	v = json_object_get(o, "Path");
	if (!json_is_string(v) || json_string_length(v) == 0)
		return fail(err, errsize, -EINVAL, "mkproc: \"Path\" must be a non-empty string");
	v = json_object_get(o, "Dir");
	if (v != NULL && !json_is_null(v) && !json_is_string(v))
		return fail(err, errsize, -EINVAL, "mkproc: \"Dir\" must be a string");
	v = json_object_get(o, "Scrub");
	if (v != NULL && !json_is_null(v) && !json_is_boolean(v))
		return fail(err, errsize, -EINVAL, "mkproc: \"Scrub\" must be true or false");
	return 0;
}

int
cmd_parse(const char *text, struct cmd *c, char *err, size_t errsize)
{
	json_error_t jerr;
	json_t *o, *v;
	const char *s;
	int rc;

	memset(c, 0, sizeof *c);
	if (text == NULL || text[strspn(text, " \t\r\n")] == '\0')
		return fail(err, errsize, -EINVAL,
		    "mkproc: missing Cmd JSON (e.g. {\"Path\": \"/bin/ls\", \"Args\": [\"/\"]})");
	o = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		return fail(err, errsize, -EINVAL, "mkproc: bad JSON at line %d column %d: %s",
		    jerr.line, jerr.column, jerr.text);
	if (!json_is_object(o)) {
		rc = fail(err, errsize, -EINVAL, "mkproc: Cmd must be a JSON object");
		goto fail_json;
	}
	rc = check(o, err, errsize);
	if (rc < 0)
		goto fail_json;

	rc = -ENOMEM;
	if ((c->path = strdup(json_string_value(json_object_get(o, "Path")))) == NULL)
		goto fail_cmd;
	v = json_object_get(o, "Args");
	if (v == NULL || json_is_null(v)) {
		if ((c->args = calloc(1, sizeof *c->args)) == NULL)
			goto fail_cmd;
	} else if ((rc = spec_strv(v, SIZE_MAX, &c->args, &c->nargs)) < 0) {
		if (rc == -EINVAL)
			fail(err, errsize, rc, "mkproc: \"Args\" must be an array of strings");
		goto fail_cmd;
	}
	v = json_object_get(o, "Env");
	if (v != NULL && !json_is_null(v)) {
		if ((rc = spec_strv(v, SIZE_MAX, &c->env, &c->nenv)) < 0) {
			if (rc == -EINVAL)
				fail(err, errsize, rc, "mkproc: \"Env\" must be an array of strings");
			goto fail_cmd;
		}
		if ((s = spec_env_bad(c->env)) != NULL) {
			rc = fail(err, errsize, -EINVAL,
			    "mkproc: \"Env\" entries must be KEY=VALUE, not \"%.64s\"", s);
			goto fail_cmd;
		}
	}
	v = json_object_get(o, "Dir");
	s = json_is_string(v) ? json_string_value(v) : NULL;
	if (s != NULL && s[0] != '\0' && (c->dir = strdup(s)) == NULL) {
		rc = -ENOMEM;
		goto fail_cmd;
	}
	c->scrub = json_is_true(json_object_get(o, "Scrub"));
	json_decref(o);
	return 0;

fail_cmd:
	if (rc == -ENOMEM)
		fail(err, errsize, rc, "mkproc: out of memory");
	cmd_free(c);
fail_json:
	json_decref(o);
	return rc;
}

static json_t *
strv_json(char **v)
{
	json_t *a = json_array();

	if (a == NULL)
		return NULL;
	for (; v != NULL && *v != NULL; v++)
		if (json_array_append_new(a, json_string(*v)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *
cmd_json(const struct cmd *c)
{
	json_t *args, *env;

	args = strv_json(c->args);
	env = c->env != NULL ? strv_json(c->env) : json_null();
	if (args == NULL || env == NULL) {
		json_decref(args);
		json_decref(env);
		return NULL;
	}
	return json_pack("{s:s, s:o, s:o, s:s, s:b}", "Path", c->path != NULL ? c->path : "",
	    "Args", args, "Env", env, "Dir", c->dir != NULL ? c->dir : "", "Scrub", c->scrub);
}

void
cmd_free(struct cmd *c)
{
	free(c->path);
	spec_strv_free(c->args);
	spec_strv_free(c->env);
	free(c->dir);
	memset(c, 0, sizeof *c);
}
