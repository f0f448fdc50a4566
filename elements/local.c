/* local.c - run operations on this server's anchor tree.
 *
 * The vocabulary of op.h mapped onto anchors and elements: mkdir/rmdir, ctl command
 * parsing, the always-present files (ctl, help, error) and dispatch to the element's
 * kind for everything else.  It also keeps the books at completion: one line per
 * operation in the server log, and the anchor's error file on failure.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements/anchor.h"
#include "elements/element.h"
#include "elements/local.h"
#include "elements/log.h"
#include "elements/server.h"

static local_members_fn members_fn;

const char local_help_root[] =
"This is the root of a circuit: one directory per live server, named by its ID\n"
"(X followed by 16 hex digits).  Inside each server directory:\n"
"\n"
"  mkdir /circuit/XID/job             make an anchor (any depth: mkdir -p)\n"
"  echo 'mkproc {\"Path\":\"/bin/ls\",\"Args\":[\"/\"]}' > /circuit/XID/job/ctl\n"
"  cat /circuit/XID/job/stdout        read the process's output\n"
"  echo 'mkchan 3' > /circuit/XID/c/ctl   make a channel; send/recv move messages\n"
"  cat /circuit/XID/peek              the server's state; log: its operation log\n"
"\n"
"Every anchor has ctl (write a command, read the anchor's path and kind), help and\n"
"error (the last failure on that anchor).  See help inside each directory.\n"
"\n"
"Reading a file acts: cp -r, tar and grep -r of the tree take channel messages\n"
"(recv), drain process output (stdout, stderr) and block on wait, recv and the log.\n"
"To copy the tree's state safely, take only the snapshot files:\n"
"  cd /circuit && find . -type f \\( -name peek -o -name ctl -o -name help \\\n"
"      -o -name error \\) -exec cp --parents {} /tmp/snap/ \\;\n";

const char local_help_anchor[] =
"An anchor: a directory that may hold one element and any number of sub-anchors.\n"
"\n"
"Files always here:\n"
"  ctl     write one command per write: `echo 'VERB ARG' > ctl`; read: path and kind\n"
"  help    this text (or the help of the element held here)\n"
"  error   the message of the last failed operation on this anchor\n"
"\n"
"Verbs that make an element here (one element per anchor):\n"
"  mkproc JSON     a process: {\"Path\":\"/bin/ls\",\"Args\":[\"/\"],\"Env\":[\"K=V\"],\n"
"                  \"Dir\":\"/tmp\",\"Scrub\":false}\n"
"  mkchan N        a channel with buffer capacity N\n"
"  mkdkr JSON      a docker container (server started with -docker)\n"
"  mkdns [IP:PORT] a DNS server\n"
"  mk@join, mk@leave   a subscription to servers joining / leaving\n"
"Other verbs: scrub (remove the element), signal SIG, close, set RR, unset NAME.\n"
"\n"
"mkdir makes sub-anchors; rmdir scrubs the element and removes the anchor.\n"
"Errors come back as errno (EINVAL bad command, EEXIST element already here, ...).\n";

void
local_set_members(local_members_fn fn)
{
	members_fn = fn;
}

int
local_is_remote_path(const char *path)
{
	size_t n = strlen(g_server.id);

	if (strcmp(path, "/") == 0)
		return 0;
	return !(strncmp(path + 1, g_server.id, n) == 0 &&
	    (path[n + 1] == '\0' || path[n + 1] == '/'));
}

/* The file names an anchor holding kind k (NULL: none) shows: ctl help error + the
 * kind's listed ones. */
static json_t *
files_of_kind(const struct elem_kind *k)
{
	json_t *files = json_pack("[sss]", "ctl", "help", "error");

	if (k != NULL)
		for (const struct op_file *f = k->files; f->name != NULL; f++)
			if (!(f->flags & OPF_HIDDEN))
				json_array_append_new(files, json_string(f->name));
	return files;
}

static json_t *
files_of(const struct anchor *a)
{
	return files_of_kind(a->elem != NULL ? a->elem->kind : NULL);
}

/* Is id a live member (this server included)? */
static int
is_member(const char *id)
{
	json_t *members = members_fn != NULL ? members_fn() : json_pack("[s]", g_server.id), *v;
	size_t i;
	int found = 0;

	json_array_foreach(members, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
			found = 1;
	json_decref(members);
	return found;
}

int
local_answers_stat(const char *path)
{
	return path[0] == '/' && path[1] != '\0' && strchr(path + 1, '/') == NULL;
}

/* STAT of a server directory /XID, ours or another's: every server anchor holds the
 * server element, so the answer comes from the member table here and never waits on
 * that server (a frozen peer must not hold up `ls` of the root). */
static void
stat_server(struct op *op)
{
	if (!is_member(op->path + 1)) {
		op_fail(op, -ENOENT, "%s: no such server", op->path);
		return;
	}
	op->json = json_pack("{s:s, s:o}", "kind", server_kind.name, "files",
	    files_of_kind(&server_kind));
	op_done(op, op->json != NULL ? 0 : -ENOMEM);
}

/* The file called name on anchor a (always-present or its element's), or NULL. */
static const struct op_file *
anchor_file(const struct anchor *a, const char *name)
{
	const struct op_file *f = op_file_find(name);

	if (f == NULL || strcmp(name, "ctl") == 0 || strcmp(name, "help") == 0 ||
	    strcmp(name, "error") == 0)
		return f;
	if (a->elem == NULL)
		return NULL;
	for (f = a->elem->kind->files; f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* Check op (SNAP or OPEN) against the file's declaration: ENOENT if a has no such
 * file, EINVAL if it is the other class (snapshot or stream), EACCES against its
 * direction.  Returns the file, or NULL after failing op. */
static const struct op_file *
file_ok(struct op *op, const struct anchor *a)
{
	const struct op_file *f = anchor_file(a, op->file);
	int stream = op->type == OP_OPEN;

	if (f == NULL) {
		op_fail(op, -ENOENT, "%s: no file %s here", op->path, op->file);
		return NULL;
	}
	if (!(f->flags & OPF_STREAM) != !stream) {
		op_fail(op, -EINVAL, "%s: %s is a %s", op->path, op->file,
		    stream ? "snapshot, not a stream" : "stream, not a snapshot");
		return NULL;
	}
	if (!op_file_mode_ok(f, op->mode)) {
		op_fail(op, -EACCES, "%s: %s is %s", op->path, op->file,
		    (f->flags & OPF_WRITE) ? "write-only" : "read-only");
		return NULL;
	}
	return f;
}

static void
run_root(struct op *op)
{
	json_t *members;

	switch (op->type) {
	case OP_STAT:
		op->json = json_pack("{s:s, s:[s]}", "kind", "root", "files", "help");
		op_done(op, 0);
		return;
	case OP_LIST:
		members = members_fn != NULL ? members_fn() : json_pack("[s]", g_server.id);
		op->json = json_pack("{s:s, s:[s], s:o}", "kind", "root", "files", "help",
		    "anchors", members);
		op_done(op, 0);
		return;
	case OP_SNAP:
		if (op->file != NULL && strcmp(op->file, "help") == 0) {
			op_done_copy(op, local_help_root, strlen(local_help_root));
			return;
		}
		op_fail(op, -ENOENT, "/: no file %s here", op->file ? op->file : "");
		return;
	case OP_MKDIR:
		op_fail(op, -EINVAL, "/: the root holds only servers (one directory per live server)");
		return;
	default:
		op_fail(op, -EINVAL, "/: not an anchor");
		return;
	}
}

static void
run_mkdir(struct op *op)
{
	char *copy = strdup(op->path), *slash;
	struct anchor *parent, *a;
	int rc;

	if (copy == NULL) {
		op_fail(op, -ENOMEM, "out of memory");
		return;
	}
	slash = strrchr(copy, '/');
	if (slash == copy) {
		/* "/XID": the server anchor exists already; other names are servers. */
		free(copy);
		op_fail(op, strcmp(op->path + 1, g_server.id) == 0 ? -EEXIST : -EINVAL,
		    "%s: the root holds only servers", op->path);
		return;
	}
	*slash = '\0';
	parent = anchor_lookup(g_server.root, copy);
	if (parent == NULL) {
		op_fail(op, -ENOENT, "%s: no such anchor", copy);
		free(copy);
		return;
	}
	rc = anchor_create(parent, slash + 1, &a);
	if (rc == -EINVAL)
		op_fail(op, rc, "%s: bad anchor name (1-255 of [A-Za-z0-9._@-], no leading '.', "
		    "not a control file name)", op->path);
	else if (rc == -EEXIST)
		op_fail(op, rc, "%s: anchor exists", op->path);
	else
		op_done(op, rc);
	free(copy);
}

static void
run_rmdir(struct op *op, struct anchor *a)
{
	if (a == g_server.root) {
		op_fail(op, -EBUSY, "%s: the server anchor cannot be removed (use suicide)", op->path);
		return;
	}
	if (a->nchildren > 0) {
		op_fail(op, -ENOTEMPTY, "%s: has sub-anchors", op->path);
		return;
	}
	if (a->elem != NULL)
		elem_scrub(a->elem);
	op_done(op, anchor_remove(a));
}

int
local_split_ctl(char *text, char **verb, char **arg)
{
	size_t n = strlen(text);
	char *p;

	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' ||
	    text[n - 1] == ' ' || text[n - 1] == '\t'))
		text[--n] = '\0';
	while (*text == ' ' || *text == '\t')
		text++;
	if (*text == '\0')
		return -EINVAL;
	for (p = text; *p != '\0' && *p != ' ' && *p != '\t'; p++)
		if (!isgraph((unsigned char)*p))
			return -EINVAL;
	*verb = text;
	if (*p != '\0') {
		*p++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
	}
	*arg = p;
	return 0;
}

static void
run_ctl(struct op *op, struct anchor *a)
{
	const struct elem_kind *k;
	char *verb, *arg;

	if (op->data == NULL || op->len == 0 || memchr(op->data, '\0', op->len) != NULL ||
	    local_split_ctl(op->data, &verb, &arg) < 0) {
		op_fail(op, -EINVAL, "%s: empty or malformed command (write 'VERB ARG')", op->path);
		return;
	}
	k = elem_kind_by_verb(verb);
	if (k != NULL) {
		if (a->elem != NULL) {
			op_fail(op, -EEXIST, "%s: %s: a %s is already here (scrub it first)",
			    op->path, verb, a->elem->kind->name);
			return;
		}
		k->make(a, arg, op);
		return;
	}
	if (strcmp(verb, "scrub") == 0) {
		if (*arg != '\0') {
			op_fail(op, -EINVAL, "%s: scrub takes no argument", op->path);
			return;
		}
		if (a->elem == NULL) {
			op_fail(op, -ENOENT, "%s: scrub: no element here", op->path);
			return;
		}
		if (a == g_server.root) {
			op_fail(op, -EBUSY, "%s: scrub: the server element cannot be scrubbed", op->path);
			return;
		}
		elem_scrub(a->elem);
		op_done(op, 0);
		return;
	}
	if (a->elem == NULL) {
		op_fail(op, -EINVAL, "%s: %s: unknown verb here (no element; see help)", op->path, verb);
		return;
	}
	a->elem->kind->verb(a->elem, verb, arg, op);
}

static void
snap_ctl(struct op *op, struct anchor *a)
{
	char *text;
	int n = asprintf(&text, "%s %s\n", a->path, a->elem != NULL ? a->elem->kind->name : "empty");

	if (n < 0)
		op_fail(op, -ENOMEM, "out of memory");
	else
		op_done_data(op, text, (size_t)n);
}

static void
run_snap(struct op *op, struct anchor *a)
{
	const char *file = op->file;
	char *text;
	int n;

	if (file_ok(op, a) == NULL)
		return;
	if (strcmp(file, "ctl") == 0) {
		snap_ctl(op, a);
	} else if (strcmp(file, "help") == 0) {
		const char *h = a->elem != NULL ? a->elem->kind->help : local_help_anchor;
		op_done_copy(op, h, strlen(h));
	} else if (strcmp(file, "error") == 0) {
		if (a->error == NULL) {
			op_done_copy(op, "", 0);
			return;
		}
		n = asprintf(&text, "%s\n", a->error);
		if (n < 0)
			op_fail(op, -ENOMEM, "out of memory");
		else
			op_done_data(op, text, (size_t)n);
	} else {
		a->elem->kind->snap(a->elem, file, op);
	}
}

void
local_run(struct op *op)
{
	struct anchor *a;

	if (strcmp(op->path, "/") == 0) {
		run_root(op);
		return;
	}
	if (op->type == OP_MKDIR) {
		run_mkdir(op);
		return;
	}
	if (op->type == OP_STAT && local_answers_stat(op->path)) {
		stat_server(op);
		return;
	}
	a = anchor_lookup(g_server.root, op->path);
	if (a == NULL) {
		op_fail(op, -ENOENT, "%s: no such anchor", op->path);
		return;
	}
	switch (op->type) {
	case OP_STAT:
		op->json = json_pack("{s:s, s:o}", "kind",
		    a->elem != NULL ? a->elem->kind->name : "empty", "files", files_of(a));
		op_done(op, 0);
		break;
	case OP_LIST: {
		json_t *names = json_array();
		struct anchor *c;
		TAILQ_FOREACH(c, &a->children, sibling)
			json_array_append_new(names, json_string(c->name));
		op->json = json_pack("{s:s, s:o, s:o}", "kind",
		    a->elem != NULL ? a->elem->kind->name : "empty", "files", files_of(a),
		    "anchors", names);
		op_done(op, 0);
		break;
	}
	case OP_RMDIR:
		run_rmdir(op, a);
		break;
	case OP_CTL:
		run_ctl(op, a);
		break;
	case OP_SNAP:
		run_snap(op, a);
		break;
	case OP_OPEN:
		if (file_ok(op, a) == NULL)
			return;
		a->elem->kind->open(a->elem, op->file, op->mode, op);
		break;
	default:
		op_fail(op, -EINVAL, "%s: bad operation", op->path);
	}
}

/* The verb of a ctl command for the log: its first word, at most 32 bytes. */
static void
ctl_verb(const struct op *op, char *buf, size_t size)
{
	size_t i = 0;

	if (op->data != NULL)
		while (i < op->len && i + 1 < size && op->data[i] != ' ' && op->data[i] != '\n' &&
		    op->data[i] != '\0') {
			buf[i] = op->data[i];
			i++;
		}
	buf[i] = '\0';
}

void
local_note_done(struct op *op)
{
	char verb[40];
	struct anchor *a;
	/* An op ended by its cancel (an interrupt, or its caller's server shutting down:
	 * EHOSTDOWN) is logged with what its caller got, but it says nothing about the
	 * element: error keeps the element's own last failure. */
	int cancelled = op->cancel_rc < 0 && op->rc == op->cancel_rc;

	if (op->type == OP_STAT || op->type == OP_LIST)
		return;
	if (op->type == OP_READ || op->type == OP_WRITE || op->type == OP_FLUSH) {
		/* Stream errors belong to the element's anchor (EFBIG, EPIPE, ...). */
		if (op->rc < 0 && op->rc != -EINTR && op->rc != -EAGAIN && op->stream != NULL) {
			struct element *e = stream_elem(op->stream);
			if (e != NULL && e->anchor != NULL) {
				if (!cancelled)
					anchor_set_error(e->anchor, op->msg);
				oplog(op->client, e->anchor->path, op_type_name(op->type), op->rc, op->msg);
			}
		}
		return;
	}
	if (op->path == NULL)
		return;
	if (op->type == OP_CTL)
		ctl_verb(op, verb, sizeof verb);
	else if (op->type == OP_SNAP || op->type == OP_OPEN)
		snprintf(verb, sizeof verb, "%s %s", op->type == OP_OPEN ? "open" : "read",
		    op->file != NULL ? op->file : "");
	else
		snprintf(verb, sizeof verb, "%s", op_type_name(op->type));
	/* Reads of help, ctl and error are lookups, not operations: keep the log useful. */
	if (op->type == OP_SNAP && op->rc >= 0 && op->file != NULL &&
	    (strcmp(op->file, "help") == 0 || strcmp(op->file, "ctl") == 0 ||
	    strcmp(op->file, "error") == 0))
		return;
	oplog(op->client, op->path, verb, op->rc, op->msg);
	if (op->rc < 0 && op->rc != -EINTR && !cancelled) {
		a = anchor_lookup(g_server.root, op->path);
		if (a == NULL && op->type == OP_MKDIR) {
			/* A failed mkdir's message goes to the parent, where `error` exists. */
			char *copy = strdup(op->path), *slash = copy ? strrchr(copy, '/') : NULL;
			if (slash != NULL && slash != copy) {
				*slash = '\0';
				a = anchor_lookup(g_server.root, copy);
			}
			free(copy);
		}
		if (a != NULL)
			anchor_set_error(a, op->msg);
	}
}
