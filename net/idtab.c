/* idtab.c - a table of entries by a 32-bit id (see idtab.h). */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "net/idtab.h"

#define IDTAB_MIN	16

static size_t
bucket_of(const struct idtab *t, uint32_t id)
{
	unsigned char in[4], out[crypto_shorthash_BYTES];
	uint64_t h;

	in[0] = (unsigned char)(id >> 24);
	in[1] = (unsigned char)(id >> 16);
	in[2] = (unsigned char)(id >> 8);
	in[3] = (unsigned char)id;
	crypto_shorthash(out, in, sizeof in, t->key);
	memcpy(&h, out, sizeof h);
	return (size_t)h & (t->nb - 1);
}

static void
link_in(struct idtab *t, struct idtab_node *n)
{
	struct idtab_node **head = &t->b[bucket_of(t, n->id)];

	n->next = *head;
	if (n->next != NULL)
		n->next->pprev = &n->next;
	n->pprev = head;
	*head = n;
}

/* Double the buckets; if that fails the old ones stay. */
static void
grow(struct idtab *t)
{
	struct idtab_node **old = t->b, *n, *next;
	size_t on = t->nb, i;

	t->b = calloc(on * 2, sizeof *t->b);
	if (t->b == NULL) {
		t->b = old;
		return;
	}
	t->nb = on * 2;
	for (i = 0; i < on; i++)
		for (n = old[i]; n != NULL; n = next) {
			next = n->next;
			link_in(t, n);
		}
	free(old);
}

int
idtab_add(struct idtab *t, struct idtab_node *n, uint32_t id)
{
	if (t->b == NULL) {
		if (sodium_init() < 0 || (t->b = calloc(IDTAB_MIN, sizeof *t->b)) == NULL)
			return -ENOMEM;
		t->nb = IDTAB_MIN;
		randombytes_buf(t->key, sizeof t->key);
	} else if (t->n >= t->nb) {
		grow(t);
	}
	n->id = id;
	link_in(t, n);
	t->n++;
	return 0;
}

struct idtab_node *
idtab_find(const struct idtab *t, uint32_t id)
{
	struct idtab_node *n;

	if (t->b == NULL)
		return NULL;
	for (n = t->b[bucket_of(t, id)]; n != NULL; n = n->next)
		if (n->id == id)
			return n;
	return NULL;
}

void
idtab_del(struct idtab *t, struct idtab_node *n)
{
	assert(t->n > 0 && *n->pprev == n);
	*n->pprev = n->next;
	if (n->next != NULL)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
	t->n--;
}

uint32_t
idtab_next_id(const struct idtab *t, uint32_t *next)
{
	uint32_t id;

	do {
		id = (*next)++;
		if (*next == 0)
			*next = 1;
	} while (idtab_find(t, id) != NULL);
	return id;
}

void
idtab_free(struct idtab *t)
{
	assert(t->n == 0);
	free(t->b);
	t->b = NULL;
	t->nb = 0;
}
