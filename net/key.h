/* key.h - the cluster key: where it comes from and how it is read.
 *
 * A key file holds the 64 hex digits that `circuit keygen` prints (256 bits).  It is
 * refused if users other than its owner may read it.  Every program finds its key the
 * same way (key_find): `-hmac FILE`, else $CIRCUIT_HMAC, else the user's own key
 * ~/.circuit.key, created on first use (mode 0600, as Erlang's cookie), so that one
 * user's servers and CLI on one host share a key with no flag and other local users
 * cannot talk to them.  `-insecure` (the seed's plaintext) is the explicit way out.
 */
#ifndef CIRCUIT_NET_KEY_H
#define CIRCUIT_NET_KEY_H

#include <stddef.h>
#include <stdint.h>

#define KEY_LEN		32

/* Read the key file at path into key.  Returns 0, or -errno with a one-line message
 * in msg (-EPERM: readable by others; -EINVAL: not a key). */
int key_load(const char *path, uint8_t key[KEY_LEN], char *msg, size_t msglen);

/* Make a new random key and its text (64 hex digits and a newline) in text[66]. */
int key_generate(char text[66]);

/* The user's own key, ~/.circuit.key, created once if missing: 0 or -errno and msg;
 * its path goes to path if not NULL. */
int key_own(uint8_t key[KEY_LEN], char *path, size_t pathlen, char *msg, size_t msglen);

/* The key a program uses, from its -hmac FILE (NULL when not given) and -insecure:
 * file, else $CIRCUIT_HMAC if set and not empty, else key_own; a leading ~ of either
 * is the home directory (path_expand_home).  *have is 0 only with insecure (no key:
 * plaintext).  Returns 0 or -errno with msg; with insecure, the only failure is a file
 * given too (-EINVAL, "-hmac and -insecure exclude each other"), a usage error. */
int key_find(const char *file, int insecure, uint8_t key[KEY_LEN], int *have,
    char *msg, size_t msglen);

/* path with a leading ~ or ~/ made the user's home directory ($HOME, else the
 * password entry's), into buf: 0, or -ENAMETOOLONG.  Here because the user's own key
 * lives there; the CLI's $CIRCUIT file (the seed exported CIRCUIT="~/.circuit" in
 * quotes, leaving the tilde to us) uses it too. */
int path_expand_home(const char *path, char *buf, size_t size);

#endif
