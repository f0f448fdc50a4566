/* inode.c - the FUSE inode table: two chained hash tables, by number and by path. */
#include <stdlib.h>
#include <string.h>

#include "fs/inode.h"

static struct inode **by_ino, **by_path;
static size_t nbuckets;
static uint64_t count, next_ino;

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static void
insert(struct inode *in)
{
	size_t i = in->ino % nbuckets, j = hash_str(in->path) % nbuckets;

	in->next_ino = by_ino[i];
	by_ino[i] = in;
	if (in->unlinked) {
		/* A removed directory is found by number only (inode_unlink_dir). */
		in->next_path = NULL;
		return;
	}
	in->next_path = by_path[j];
	by_path[j] = in;
}

/* Double the tables when they get crowded, so chains stay short. */
static void
grow(void)
{
	struct inode **oi = by_ino, **ni, **np, *in, *next;
	size_t on = nbuckets;

	ni = calloc(on * 2, sizeof *ni);
	np = calloc(on * 2, sizeof *np);
	if (ni == NULL || np == NULL) {
		/* Keep the old tables: longer chains, still correct. */
		free(ni);
		free(np);
		return;
	}
	free(by_path);
	by_ino = ni;
	by_path = np;
	nbuckets = on * 2;
	for (size_t i = 0; i < on; i++)
		for (in = oi[i]; in != NULL; in = next) {
			next = in->next_ino;
			insert(in);
		}
	free(oi);
}

static struct inode *
make(const char *dir, const char *file)
{
	struct inode *in = calloc(1, sizeof *in);
	size_t dl = strlen(dir);

	if (in == NULL)
		return NULL;
	if (file == NULL) {
		in->path = strdup(dir);
		in->dir = in->path;
	} else {
		in->path = malloc(dl + strlen(file) + 2);
		in->dir = strdup(dir);
		if (in->path != NULL) {
			strcpy(in->path, dir);
			if (dl == 0 || dir[dl - 1] != '/')
				in->path[dl++] = '/';
			strcpy(in->path + dl, file);
			in->file = in->path + dl;
		}
	}
	if (in->path == NULL || in->dir == NULL) {
		if (in->dir != in->path)
			free(in->dir);
		free(in->path);
		free(in);
		return NULL;
	}
	in->ino = next_ino++;
	return in;
}

int
inode_init(void)
{
	struct inode *root;

	nbuckets = 256;
	by_ino = calloc(nbuckets, sizeof *by_ino);
	by_path = calloc(nbuckets, sizeof *by_path);
	if (by_ino == NULL || by_path == NULL)
		return -1;
	next_ino = 1;
	root = make("/", NULL);
	if (root == NULL)
		return -1;
	insert(root);
	count = 1;
	return 0;
}

static void
free_inode(struct inode *in)
{
	if (in->dir != in->path)
		free(in->dir);
	free(in->path);
	free(in);
}

void
inode_fini(void)
{
	struct inode *in, *next;

	for (size_t i = 0; by_ino != NULL && i < nbuckets; i++)
		for (in = by_ino[i]; in != NULL; in = next) {
			next = in->next_ino;
			free_inode(in);
		}
	free(by_ino);
	free(by_path);
	by_ino = by_path = NULL;
	count = 0;
}

struct inode *
inode_get(uint64_t ino)
{
	struct inode *in;

	for (in = by_ino[ino % nbuckets]; in != NULL; in = in->next_ino)
		if (in->ino == ino)
			return in;
	return NULL;
}

struct inode *
inode_intern(const char *dir, const char *file)
{
	struct inode *in = make(dir, file);
	struct inode *old;

	if (in == NULL)
		return NULL;
	for (old = by_path[hash_str(in->path) % nbuckets]; old != NULL; old = old->next_path)
		if (strcmp(old->path, in->path) == 0 && (old->file == NULL) == (file == NULL)) {
			next_ino--;	/* the number was never handed out */
			free_inode(in);
			return old;
		}
	if (count >= nbuckets * 2)
		grow();
	insert(in);
	count++;
	return in;
}

static void
unlink_chain(struct inode **head, struct inode *in, int by_number)
{
	for (struct inode **p = head; *p != NULL;
	    p = by_number ? &(*p)->next_ino : &(*p)->next_path)
		if (*p == in) {
			*p = by_number ? in->next_ino : in->next_path;
			return;
		}
}

void
inode_unlink_dir(const char *path)
{
	struct inode **head = &by_path[hash_str(path) % nbuckets], *in;

	for (in = *head; in != NULL; in = in->next_path)
		if (in->file == NULL && in->ino != 1 && strcmp(in->path, path) == 0) {
			unlink_chain(head, in, 0);
			in->next_path = NULL;
			in->unlinked = 1;
			return;
		}
}

void
inode_forget(struct inode *in, uint64_t n)
{
	if (in->ino == 1)
		return;
	in->nlookup = n >= in->nlookup ? 0 : in->nlookup - n;
	if (in->nlookup > 0)
		return;
	unlink_chain(&by_ino[in->ino % nbuckets], in, 1);
	if (!in->unlinked)
		unlink_chain(&by_path[hash_str(in->path) % nbuckets], in, 0);
	free_inode(in);
	count--;
}

uint64_t
inode_count(void)
{
	return count;
}
