/* local.h - running operations on this server's own anchors. */
#ifndef CIRCUIT_LOCAL_H
#define CIRCUIT_LOCAL_H

#include "elements/op.h"

/* Run op (not READ/WRITE) against this server's anchor tree or the root "/". */
void local_run(struct op *op);

/* Does path name an anchor of another server? */
int local_is_remote_path(const char *path);

/* Is a STAT of path answered here whoever owns it?  Yes for server directories
 * ("/XID"): they come from the member table, so nothing waits on a slow peer. */
int local_answers_stat(const char *path);

/* The op layer's done hook (op_set_done_hook, installed by server_init): as an op
 * that ran here completes, write the operation log and the anchor's error file. */
void local_note_done(struct op *op);

/* Split one ctl command "VERB ARG\n" in place: trailing newlines and blanks go, blanks
 * separate; -EINVAL if empty or the verb holds a non-printing byte. */
int local_split_ctl(char *text, char **verb, char **arg);

/* The root directory's members (live servers), as a JSON array of XIDs; set by net/. */
typedef json_t *(*local_members_fn)(void);
void local_set_members(local_members_fn fn);

/* Text of the help files of the root, of an empty anchor and of a server anchor. */
extern const char local_help_root[];
extern const char local_help_anchor[];

#endif
