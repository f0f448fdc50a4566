/* spec.h - what the strict JSON specs of mkproc (the Cmd, cmd.c) and mkdkr (the
 * container spec, dkr_spec.c) share: the check that names an unknown field, arrays of
 * strings copied into NULL-terminated vectors, and KEY=VALUE environments.
 */
#ifndef CIRCUIT_ELEMENTS_SPEC_H
#define CIRCUIT_ELEMENTS_SPEC_H

#include <stddef.h>
#include <jansson.h>

/* Every key of the object o is one of fields (NULL-terminated): 0, or -EINVAL with
 * `VERB: unknown field "KEY" (known: F1, F2, ...)` in err. */
int spec_fields(json_t *o, const char *const *fields, const char *verb, char *err,
    size_t errsize);

/* Copy the JSON array of strings arr into a NULL-terminated vector *out of *n strings.
 * 0; -EINVAL if arr is not an array of strings; -E2BIG if it holds more than max;
 * -ENOMEM.  On failure *out is untouched. */
int spec_strv(json_t *arr, size_t max, char ***out, size_t *n);

/* The first entry of v that is not KEY=VALUE (no '=', or an empty KEY), or NULL. */
const char *spec_env_bad(char **v);

/* Free a NULL-terminated vector and its strings; v may be NULL. */
void spec_strv_free(char **v);

#endif
