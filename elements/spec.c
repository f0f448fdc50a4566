/* spec.c - the parts of the mkproc and mkdkr JSON specs' parsers they share (spec.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/spec.h"

int
spec_fields(json_t *o, const char *const *fields, const char *verb, char *err,
    size_t errsize)
{
	const char *key, *const *f;
	json_t *v;
	size_t n;

	json_object_foreach(o, key, v) {
		for (f = fields; *f != NULL && strcmp(*f, key) != 0; f++)
			;
		if (*f != NULL)
			continue;
		if (err == NULL || errsize == 0)
			return -EINVAL;
		n = (size_t)snprintf(err, errsize, "%s: unknown field \"%.64s\" (known: ", verb, key);
		for (f = fields; *f != NULL && n < errsize; f++)
			n += (size_t)snprintf(err + n, errsize - n, "%s%s", f == fields ? "" : ", ", *f);
		if (n < errsize)
			snprintf(err + n, errsize - n, ")");
		return -EINVAL;
	}
	return 0;
}

int
spec_strv(json_t *arr, size_t max, char ***out, size_t *n)
{
	size_t i, len;
	char **v;

	if (!json_is_array(arr))
		return -EINVAL;
	len = json_array_size(arr);
	if (len > max)
		return -E2BIG;
	for (i = 0; i < len; i++)
		if (!json_is_string(json_array_get(arr, i)))
			return -EINVAL;
	v = calloc(len + 1, sizeof *v);
	if (v == NULL)
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		v[i] = strdup(json_string_value(json_array_get(arr, i)));
		if (v[i] == NULL) {
			spec_strv_free(v);
			return -ENOMEM;
		}
	}
	*out = v;
	*n = len;
	return 0;
}

const char *
spec_env_bad(char **v)
{
	for (; v != NULL && *v != NULL; v++)
		if ((*v)[0] == '=' || strchr(*v, '=') == NULL)
			return *v;
	return NULL;
}

void
spec_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p != NULL; p++)
		free(*p);
	free(v);
}
