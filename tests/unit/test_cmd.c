/* test_cmd.c - the Cmd JSON of process elements: strict parsing and formatting back. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "elements/cmd.h"

static char err[512];

static void
bad(const char *text, const char *msg)
{
	struct cmd c;
	int rc;

	err[0] = '\0';
	rc = cmd_parse(text, &c, err, sizeof err);
	cr_assert_eq(rc, -EINVAL, "%s: rc %d", text ? text : "(null)", rc);
	cr_assert_str_eq(err, msg, "%s", text ? text : "(null)");
	cr_assert_null(c.path);
	cr_assert_null(c.args);
	cr_assert_null(c.env);
	cr_assert_null(c.dir);
}

/* Like bad() but only the message's start is fixed (jansson's own words follow). */
static void
bad_prefix(const char *text, const char *prefix)
{
	struct cmd c;

	cr_assert_eq(cmd_parse(text, &c, err, sizeof err), -EINVAL, "%s", text);
	cr_assert(strncmp(err, prefix, strlen(prefix)) == 0, "%s: got %s", text, err);
	cr_assert(strchr(err, '\n') == NULL, "one line: %s", err);
}

Test(cmd, full)
{
	struct cmd c;

	cr_assert_eq(cmd_parse("{\"Path\": \"/bin/ls\", \"Args\": [\"-l\", \"/\"], "
	    "\"Env\": [\"K=V\", \"E=\"], \"Dir\": \"/tmp\", \"Scrub\": true}", &c, err,
	    sizeof err), 0, "%s", err);
	cr_assert_str_eq(c.path, "/bin/ls");
	cr_assert_eq(c.nargs, 2);
	cr_assert_str_eq(c.args[0], "-l");
	cr_assert_str_eq(c.args[1], "/");
	cr_assert_null(c.args[2]);
	cr_assert_eq(c.nenv, 2);
	cr_assert_str_eq(c.env[0], "K=V");
	cr_assert_str_eq(c.env[1], "E=");
	cr_assert_null(c.env[2]);
	cr_assert_str_eq(c.dir, "/tmp");
	cr_assert_eq(c.scrub, 1);
	cmd_free(&c);
	cr_assert_null(c.path);
	cmd_free(&c);		/* safe twice */
}

Test(cmd, minimal)
{
	struct cmd c;

	cr_assert_eq(cmd_parse(" \n{\"Path\":\"ls\"}\n\n", &c, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(c.path, "ls");
	cr_assert_eq(c.nargs, 0);
	cr_assert_not_null(c.args);
	cr_assert_null(c.args[0]);
	cr_assert_null(c.env, "absent Env inherits");
	cr_assert_null(c.dir);
	cr_assert_eq(c.scrub, 0);
	cmd_free(&c);
}

Test(cmd, nulls_are_absent)
{
	struct cmd c;

	cr_assert_eq(cmd_parse("{\"Path\":\"/bin/true\",\"Args\":null,\"Env\":null,"
	    "\"Dir\":null,\"Scrub\":null}", &c, err, sizeof err), 0, "%s", err);
	cr_assert_eq(c.nargs, 0);
	cr_assert_null(c.env);
	cr_assert_null(c.dir);
	cr_assert_eq(c.scrub, 0);
	cmd_free(&c);
}

Test(cmd, empty_env_and_dir)
{
	struct cmd c;

	cr_assert_eq(cmd_parse("{\"Path\":\"/bin/true\",\"Env\":[],\"Dir\":\"\",\"Scrub\":false}",
	    &c, err, sizeof err), 0, "%s", err);
	cr_assert_not_null(c.env, "an empty Env is an empty environment, not inherit");
	cr_assert_eq(c.nenv, 0);
	cr_assert_null(c.env[0]);
	cr_assert_null(c.dir, "an empty Dir is the server's directory");
	cmd_free(&c);
}

Test(cmd, bad_text)
{
	bad(NULL, "mkproc: missing Cmd JSON (e.g. {\"Path\": \"/bin/ls\", \"Args\": [\"/\"]})");
	bad("", "mkproc: missing Cmd JSON (e.g. {\"Path\": \"/bin/ls\", \"Args\": [\"/\"]})");
	bad(" \n\t", "mkproc: missing Cmd JSON (e.g. {\"Path\": \"/bin/ls\", \"Args\": [\"/\"]})");
	bad("[\"/bin/ls\"]", "mkproc: Cmd must be a JSON object");
	bad("\"/bin/ls\"", "mkproc: Cmd must be a JSON object");
	bad("42", "mkproc: Cmd must be a JSON object");
	bad("null", "mkproc: Cmd must be a JSON object");
	bad_prefix("{", "mkproc: bad JSON at line 1 column ");
	bad_prefix("{\"Path\": \"/bin/ls\"} x", "mkproc: bad JSON at line 1 column ");
	bad_prefix("{\"Path\": \"/bin/ls\"}{}", "mkproc: bad JSON at line 1 column ");
	bad_prefix("{\"Path\": \"/bin/ls\",}", "mkproc: bad JSON at line 1 column ");
	bad_prefix("{\"Path\": \"/bin/ls\", \"Path\": \"/bin/sh\"}", "mkproc: bad JSON");
	bad_prefix("{\"Path\": \"a\\u0000b\"}", "mkproc: bad JSON");
	bad_prefix("\"Path\": \"/bin/ls\"", "mkproc: bad JSON");
}

Test(cmd, bad_fields)
{
	bad("{\"Path\":\"/bin/ls\",\"Arg\":[]}",
	    "mkproc: unknown field \"Arg\" (known: Path, Args, Env, Dir, Scrub)");
	bad("{\"path\":\"/bin/ls\"}",
	    "mkproc: unknown field \"path\" (known: Path, Args, Env, Dir, Scrub)");
	bad("{}", "mkproc: \"Path\" must be a non-empty string");
	bad("{\"Args\":[]}", "mkproc: \"Path\" must be a non-empty string");
	bad("{\"Path\":\"\"}", "mkproc: \"Path\" must be a non-empty string");
	bad("{\"Path\":null}", "mkproc: \"Path\" must be a non-empty string");
	bad("{\"Path\":3}", "mkproc: \"Path\" must be a non-empty string");
	bad("{\"Path\":[\"/bin/ls\"]}", "mkproc: \"Path\" must be a non-empty string");
	bad("{\"Path\":\"/bin/ls\",\"Args\":\"/\"}", "mkproc: \"Args\" must be an array of strings");
	bad("{\"Path\":\"/bin/ls\",\"Args\":[\"/\",1]}", "mkproc: \"Args\" must be an array of strings");
	bad("{\"Path\":\"/bin/ls\",\"Args\":[null]}", "mkproc: \"Args\" must be an array of strings");
	bad("{\"Path\":\"/bin/ls\",\"Args\":{}}", "mkproc: \"Args\" must be an array of strings");
	bad("{\"Path\":\"/bin/ls\",\"Env\":\"K=V\"}", "mkproc: \"Env\" must be an array of strings");
	bad("{\"Path\":\"/bin/ls\",\"Env\":[true]}", "mkproc: \"Env\" must be an array of strings");
	bad("{\"Path\":\"/bin/ls\",\"Env\":[\"K=V\",\"NOEQUALS\"]}",
	    "mkproc: \"Env\" entries must be KEY=VALUE, not \"NOEQUALS\"");
	bad("{\"Path\":\"/bin/ls\",\"Env\":[\"=V\"]}",
	    "mkproc: \"Env\" entries must be KEY=VALUE, not \"=V\"");
	bad("{\"Path\":\"/bin/ls\",\"Dir\":1}", "mkproc: \"Dir\" must be a string");
	bad("{\"Path\":\"/bin/ls\",\"Dir\":[\"/\"]}", "mkproc: \"Dir\" must be a string");
	bad("{\"Path\":\"/bin/ls\",\"Scrub\":\"yes\"}", "mkproc: \"Scrub\" must be true or false");
	bad("{\"Path\":\"/bin/ls\",\"Scrub\":1}", "mkproc: \"Scrub\" must be true or false");
}

Test(cmd, format_round_trip)
{
	struct cmd c, d;
	json_t *j;
	char *text;

	cr_assert_eq(cmd_parse("{\"Path\":\"/bin/ls\",\"Args\":[\"/\"]}", &c, err, sizeof err), 0);
	j = cmd_json(&c);
	text = json_dumps(j, JSON_PRESERVE_ORDER);
	cr_assert_str_eq(text, "{\"Path\": \"/bin/ls\", \"Args\": [\"/\"], \"Env\": null, "
	    "\"Dir\": \"\", \"Scrub\": false}");
	cr_assert_eq(cmd_parse(text, &d, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(d.path, "/bin/ls");
	cr_assert_eq(d.nargs, 1);
	cr_assert_null(d.env);
	cr_assert_null(d.dir);
	free(text);
	json_decref(j);
	cmd_free(&c);
	cmd_free(&d);

	cr_assert_eq(cmd_parse("{\"Path\":\"/x\",\"Env\":[\"A=1\"],\"Dir\":\"/tmp\",\"Scrub\":true}",
	    &c, err, sizeof err), 0);
	j = cmd_json(&c);
	text = json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT);
	cr_assert_str_eq(text, "{\"Path\":\"/x\",\"Args\":[],\"Env\":[\"A=1\"],\"Dir\":\"/tmp\","
	    "\"Scrub\":true}");
	free(text);
	json_decref(j);
	cmd_free(&c);
}
