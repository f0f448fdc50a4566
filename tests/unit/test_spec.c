/* test_spec.c - the checks mkproc's Cmd and mkdkr's spec share (elements/spec.c). */
#include <errno.h>
#include <string.h>
#include <criterion/criterion.h>

#include "elements/spec.h"

static const char *const fields[] = { "Path", "Args", NULL };

Test(spec, unknown_field_names_it_and_the_known_ones)
{
	json_t *o = json_pack("{s:s, s:[], s:i}", "Path", "/x", "Args", "Arg", 1);
	char err[128];

	cr_assert_eq(spec_fields(o, fields, "mkproc", err, sizeof err), -EINVAL);
	cr_assert_str_eq(err, "mkproc: unknown field \"Arg\" (known: Path, Args)");
	cr_assert_eq(spec_fields(o, fields, "mkproc", err, 20), -EINVAL);
	cr_assert_str_eq(err, "mkproc: unknown fie");	/* cut, still terminated */
	cr_assert_eq(spec_fields(o, fields, "mkproc", NULL, 0), -EINVAL);
	json_object_del(o, "Arg");
	cr_assert_eq(spec_fields(o, fields, "mkproc", err, sizeof err), 0);
	json_decref(o);
}

Test(spec, strv_copies_arrays_of_strings_only)
{
	json_t *a = json_pack("[s, s]", "a", "b=c"), *bad = json_pack("[s, i]", "a", 1);
	json_t *str = json_string("a");
	char **v = NULL;
	size_t n = 0;

	cr_assert_eq(spec_strv(a, 2, &v, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(v[0], "a");
	cr_assert_str_eq(v[1], "b=c");
	cr_assert_null(v[2]);
	cr_assert_str_eq(spec_env_bad(v), "a");
	cr_assert_null(spec_env_bad(v + 1));
	cr_assert_null(spec_env_bad(NULL));
	spec_strv_free(v);
	v = NULL;
	cr_assert_eq(spec_strv(a, 1, &v, &n), -E2BIG);
	cr_assert_eq(spec_strv(bad, 8, &v, &n), -EINVAL);
	cr_assert_eq(spec_strv(str, 8, &v, &n), -EINVAL);
	cr_assert_null(v);
	spec_strv_free(NULL);
	json_decref(a);
	json_decref(bad);
	json_decref(str);
}

Test(spec, env_entries_need_a_key_and_an_equals)
{
	char *ok[] = { "A=", "B=1=2", NULL }, *noeq[] = { "A=1", "NOEQ", NULL };
	char *nokey[] = { "=V", NULL };

	cr_assert_null(spec_env_bad(ok));
	cr_assert_str_eq(spec_env_bad(noeq), "NOEQ");
	cr_assert_str_eq(spec_env_bad(nokey), "=V");
}
