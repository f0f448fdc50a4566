/* test_idtab.c - the id table (net/idtab.h) that finds a connection's requests by tag
 * and its open streams by handle. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "net/idtab.h"

struct thing {
	int value;
	struct idtab_node node;
};

static struct thing *
find(struct idtab *t, uint32_t id)
{
	struct idtab_node *n = idtab_find(t, id);

	return n != NULL ? IDTAB_ENTRY(n, struct thing, node) : NULL;
}

Test(idtab, empty_finds_nothing)
{
	struct idtab t = { 0 };

	cr_assert_null(idtab_find(&t, 0));
	cr_assert_null(idtab_find(&t, 7));
	idtab_free(&t);
}

/* 65,536 entries (a connection's cap), every other one removed, then the rest: each
 * is found under its own id until it goes, and never after. */
Test(idtab, grows_and_removes)
{
	enum { N = 65536 };
	struct idtab t = { 0 };
	struct thing *th = calloc(N, sizeof *th);
	uint32_t i;

	cr_assert_not_null(th);
	for (i = 0; i < N; i++) {
		th[i].value = (int)i;
		/* Ids far apart and near each other alike. */
		cr_assert_eq(idtab_add(&t, &th[i].node, i * 2654435761u), 0);
	}
	cr_assert_eq(t.n, N);
	cr_assert_geq(t.nb, N);
	for (i = 0; i < N; i++)
		cr_assert_eq(find(&t, i * 2654435761u), &th[i]);
	cr_assert_null(find(&t, 0x7ffffff0));
	for (i = 0; i < N; i += 2)
		idtab_del(&t, &th[i].node);
	for (i = 0; i < N; i++)
		cr_assert_eq(find(&t, i * 2654435761u), i % 2 ? &th[i] : NULL);
	for (i = 1; i < N; i += 2)
		idtab_del(&t, &th[i].node);
	cr_assert_eq(t.n, 0);
	cr_assert_null(find(&t, 2654435761u));
	idtab_free(&t);
	cr_assert_null(t.b);
	free(th);
}

/* Two entries under one id (a client may reuse a readiness wait's tag): both are
 * there until each is removed. */
Test(idtab, same_id_twice)
{
	struct idtab t = { 0 };
	struct thing a = { .value = 1 }, b = { .value = 2 };

	cr_assert_eq(idtab_add(&t, &a.node, 5), 0);
	cr_assert_eq(idtab_add(&t, &b.node, 5), 0);
	cr_assert_eq(find(&t, 5), &b);
	idtab_del(&t, &b.node);
	cr_assert_eq(find(&t, 5), &a);
	idtab_del(&t, &a.node);
	cr_assert_null(find(&t, 5));
	idtab_free(&t);
}
