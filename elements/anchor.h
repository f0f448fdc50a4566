/* anchor.h - this server's tree of anchors: names, create, remove, lookup.
 *
 * The root anchor is the server's own (/XID).  Each anchor holds at most one element
 * and any number of children.  Pure data structure: no I/O, no loop.
 */
#ifndef CIRCUIT_ANCHOR_H
#define CIRCUIT_ANCHOR_H

#include <sys/queue.h>

struct element;

struct anchor {
	char *name;			/* one path component ("X0123...", "charlie") */
	char *path;			/* full path: "/X0123.../this/is/charlie" */
	struct anchor *parent;		/* NULL for the server anchor */
	TAILQ_HEAD(anchor_list, anchor) children;
	TAILQ_ENTRY(anchor) sibling;
	int nchildren;
	struct element *elem;		/* NULL when empty */
	char *error;			/* last failed operation's message, or NULL */
};

/* Check one anchor name: 1..255 bytes of [A-Za-z0-9._@-], no leading '.', not reserved. */
int anchor_name_ok(const char *name);

/* Is name one of the reserved control-file names (ctl, peek, help, ...)? */
int anchor_name_reserved(const char *name);

/* Make the root (server) anchor named name; NULL on allocation failure. */
struct anchor *anchor_new_root(const char *name);

/* Find the anchor at path (absolute, its first component must be the root's name). */
struct anchor *anchor_lookup(struct anchor *root, const char *path);

/* Find a direct child by name. */
struct anchor *anchor_child(struct anchor *a, const char *name);

/* Create child name under parent: -EEXIST, -EINVAL (bad name) or -ENOMEM. */
int anchor_create(struct anchor *parent, const char *name, struct anchor **out);

/* Remove an anchor that has no children and no element: -ENOTEMPTY / -EBUSY otherwise. */
int anchor_remove(struct anchor *a);

/* Free a whole tree (shutdown); elements must already be scrubbed. */
void anchor_free_tree(struct anchor *root);

/* Attach element e (taking over the caller's reference) to the empty anchor a. */
void anchor_attach(struct anchor *a, struct element *e);

/* Replace the anchor's error message (a copy is kept); NULL clears it. */
void anchor_set_error(struct anchor *a, const char *msg);

/* Split the absolute path into its first component (the XID) into buf; -EINVAL if bad. */
int anchor_path_server(const char *path, char *buf, size_t size);

#endif
