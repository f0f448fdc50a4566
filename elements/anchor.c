/* anchor.c - this server's tree of anchors.
 *
 * A plain tree with sibling lists: servers hold few anchors per directory, and the
 * FUSE layer caches what it looked up, so a linear child scan is cheap enough.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elements/anchor.h"
#include "elements/log.h"
#include "elements/element.h"

static const char *const reserved[] = {
	"ctl", "peek", "help", "error", "log", "stdin", "stdout", "stderr",
	"wait", "send", "recv", NULL
};

int
anchor_name_reserved(const char *name)
{
	for (const char *const *r = reserved; *r != NULL; r++)
		if (strcmp(*r, name) == 0)
			return 1;
	return 0;
}

int
anchor_name_ok(const char *name)
{
	size_t n = 0;

	if (name == NULL || name[0] == '\0' || name[0] == '.')
		return 0;
	for (const char *p = name; *p != '\0'; p++, n++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '@' || c == '-'))
			return 0;
	}
	return n <= 255 && !anchor_name_reserved(name);
}

static struct anchor *
alloc_anchor(struct anchor *parent, const char *name)
{
	struct anchor *a = calloc(1, sizeof *a);
	size_t plen = parent != NULL ? strlen(parent->path) : 0;

	if (a == NULL)
		return NULL;
	a->name = strdup(name);
	a->path = malloc(plen + strlen(name) + 2);
	if (a->name == NULL || a->path == NULL) {
		free(a->name);
		free(a->path);
		free(a);
		return NULL;
	}
	if (parent != NULL)
		memcpy(a->path, parent->path, plen);
	a->path[plen] = '/';
	strcpy(a->path + plen + 1, name);
	a->parent = parent;
	TAILQ_INIT(&a->children);
	return a;
}

struct anchor *
anchor_new_root(const char *name)
{
	return alloc_anchor(NULL, name);
}

struct anchor *
anchor_child(struct anchor *a, const char *name)
{
	struct anchor *c;

	TAILQ_FOREACH(c, &a->children, sibling)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

struct anchor *
anchor_lookup(struct anchor *root, const char *path)
{
	struct anchor *a = root;
	const char *p = path, *end;
	size_t n;
	char name[256];

	if (root == NULL || path == NULL || *p != '/')
		return NULL;
	p++;
	/* The first component must be the root's own name. */
	end = strchr(p, '/');
	n = end != NULL ? (size_t)(end - p) : strlen(p);
	if (n != strlen(root->name) || strncmp(p, root->name, n) != 0)
		return NULL;
	p += n;
	while (*p == '/') {
		p++;
		if (*p == '\0')
			break;
		end = strchr(p, '/');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n >= sizeof name)
			return NULL;
		memcpy(name, p, n);
		name[n] = '\0';
		a = anchor_child(a, name);
		if (a == NULL)
			return NULL;
		p += n;
	}
	return a;
}

int
anchor_create(struct anchor *parent, const char *name, struct anchor **out)
{
	struct anchor *a;

	if (!anchor_name_ok(name))
		return -EINVAL;
	if (anchor_child(parent, name) != NULL)
		return -EEXIST;
	a = alloc_anchor(parent, name);
	if (a == NULL)
		return -ENOMEM;
	TAILQ_INSERT_TAIL(&parent->children, a, sibling);
	parent->nchildren++;
	if (out != NULL)
		*out = a;
	return 0;
}

static void
free_anchor(struct anchor *a)
{
	free(a->name);
	free(a->path);
	free(a->error);
	free(a);
}

int
anchor_remove(struct anchor *a)
{
	if (a->nchildren > 0)
		return -ENOTEMPTY;
	if (a->elem != NULL || a->parent == NULL)
		return -EBUSY;
	TAILQ_REMOVE(&a->parent->children, a, sibling);
	a->parent->nchildren--;
	free_anchor(a);
	return 0;
}

void
anchor_free_tree(struct anchor *root)
{
	struct anchor *c;

	if (root == NULL)
		return;
	while ((c = TAILQ_FIRST(&root->children)) != NULL) {
		TAILQ_REMOVE(&root->children, c, sibling);
		anchor_free_tree(c);
	}
	free_anchor(root);
}

void
anchor_attach(struct anchor *a, struct element *e)
{
	a->elem = e;
	e->anchor = a;
}

void
anchor_set_error(struct anchor *a, const char *msg)
{
	free(a->error);
	/* One bounded line: a message may quote megabytes of input, newlines, escapes. */
	a->error = msg != NULL ? log_clean(msg, LOG_MSG_MAX) : NULL;
}

int
anchor_path_server(const char *path, char *buf, size_t size)
{
	const char *end;
	size_t n;

	if (path == NULL || path[0] != '/')
		return -EINVAL;
	end = strchr(path + 1, '/');
	n = end != NULL ? (size_t)(end - path - 1) : strlen(path + 1);
	if (n == 0 || n >= size)
		return -EINVAL;
	memcpy(buf, path + 1, n);
	buf[n] = '\0';
	return 0;
}
