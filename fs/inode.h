/* inode.h - the FUSE inode table: anchors and their control files by number.
 *
 * An inode names a path, never an element: "/X.../a" for an anchor directory,
 * "/X.../a/ctl" for a control file, "/" for the root (ino 1).  Numbers are never
 * reused, so a stale number from the kernel resolves to nothing (ESTALE), not to a
 * different file.  Lifetime follows the kernel's lookup count (forget).
 */
#ifndef CIRCUIT_FS_INODE_H
#define CIRCUIT_FS_INODE_H

#include <stdint.h>

struct inode {
	uint64_t ino;
	char *path;			/* full path of the anchor or file */
	char *dir;			/* files: the anchor path; dirs: same as path */
	const char *file;		/* files: the file name (points into path); dirs: NULL */
	uint64_t nlookup;		/* the kernel's references */
	int unlinked;			/* removed dir: in the number table only */
	struct inode *next_ino;		/* hash chains */
	struct inode *next_path;
};

/* Set up the table with the root inode (ino 1, path "/"). */
int inode_init(void);

/* Free every inode (shutdown). */
void inode_fini(void);

/* The inode numbered ino, or NULL. */
struct inode *inode_get(uint64_t ino);

/* The inode of path (dir or file), created if new; its lookup count is not changed. */
struct inode *inode_intern(const char *dir, const char *file);

/* The directory at path was removed: take its inode out of the path table (it lives
 * on by number until forgotten), so that a new directory there gets a new number; the
 * kernel may still hold the old one, dead after rmdir. */
void inode_unlink_dir(const char *path);

/* Drop n kernel references; the inode is freed at zero (the root never is). */
void inode_forget(struct inode *in, uint64_t n);

/* Number of live inodes (for stk/tests). */
uint64_t inode_count(void);

#endif
