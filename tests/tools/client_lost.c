/* client_lost.c - calls whose connection is lost, through the client library
 * (net/client.h).
 *
 *   client_lost URL PATH PID   open PATH's `send` (a buffered channel), write one
 *                              message, SIGKILL the server PID, see a call fail, then
 *                              a later one, then close the stream.
 *     Prints "write N", "stat RC MSG" (the call that finds the loss), "stat RC MSG"
 *     (a later call: the first cause again), "lost RC WHY" (circuit_lost), "close RC
 *     MSG" (negative errnos): the close of a stream whose connection is known to be
 *     gone must fail, since no RELEASE ended the message.
 *   client_lost URL PATH later:PID  (tests/tools/cut_server.py later, no key) read
 *                              PATH's stdout, stat it, wait for PID (the server) to
 *                              end, then read until an error.
 *     Prints "read N TEXT" per read, "stat RC", "read RC" at the error: a reply that
 *     came in during the stat is handed over although the connection is gone.
 *   client_lost URL PATH refuse  (tests/tools/cut_server.py refuse, no key) stat PATH
 *                              twice, then ask circuit_lost.
 *     Prints "stat RC MSG" twice and "lost RC WHY": the server's REFUSE text is the
 *     cause, on one line.
 * Built against the client library's sources by the test (see test_cli_stream.sh).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/client.h"

/* Stat path on c, whose connection is lost by now, twice; then ask why it was lost. */
static void
stat_twice(struct circuit *c, const char *path)
{
	const char *why;
	json_t *j = NULL;
	char *err = NULL;
	int rc, i;

	for (i = 0; i < 2; i++) {
		rc = circuit_stat(c, path, &j, &err);
		printf("stat %d %s\n", rc, rc < 0 && err != NULL ? err : "");
		json_decref(j);
		j = NULL;
		free(err);
		err = NULL;
	}
	rc = circuit_lost(c, &why);
	printf("lost %d %s\n", rc, why != NULL ? why : "(null)");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct circuit *c;
	struct circuit_stream *s;
	json_t *j = NULL;
	char *err = NULL;
	long rc;

	if (argc != 4) {
		fputs("usage: client_lost URL PATH PID|later:PID|refuse\n", stderr);
		return 2;
	}
	if (strncmp(argv[3], "later:", 6) == 0) {
		char buf[64];

		if (circuit_dial_key(argv[1], NULL, &c, &err) < 0 ||
		    circuit_open(c, argv[2], "stdout", CIRCUIT_READ, &s, &err) < 0) {
			fprintf(stderr, "client_lost: %s\n", err);
			return 1;
		}
		for (int i = 0; i < 4; i++) {
			if ((rc = circuit_read(s, buf, sizeof buf, NULL)) <= 0) {
				printf("read %ld\n", rc);
				break;
			}
			printf("read %ld %.*s\n", rc, (int)rc, buf);
			if (i == 0) {
				printf("stat %d\n", circuit_stat(c, "/X0000000000000001", &j, NULL));
				json_decref(j);
				/* The server has reset the connection once it is gone. */
				for (int k = 0; k < 200 && kill((pid_t)atoi(argv[3] + 6), 0) == 0; k++)
					usleep(50000);
			}
		}
		circuit_stream_close(s, NULL);
		circuit_close(c);
		return 0;
	}
	if (strcmp(argv[3], "refuse") == 0) {
		if (circuit_dial_key(argv[1], NULL, &c, &err) < 0) {
			fprintf(stderr, "client_lost: %s\n", err);
			return 1;
		}
		stat_twice(c, argv[2]);
		circuit_close(c);
		return 0;
	}
	if (circuit_dial(argv[1], NULL, &c, &err) < 0 ||
	    circuit_open(c, argv[2], "send", CIRCUIT_WRITE, &s, &err) < 0) {
		fprintf(stderr, "client_lost: %s\n", err);
		return 1;
	}
	printf("write %ld\n", (long)circuit_write(s, "message", 7, NULL));
	fflush(stdout);
	kill((pid_t)atoi(argv[3]), SIGKILL);
	stat_twice(c, argv[2]);
	rc = circuit_stream_close(s, &err);
	printf("close %ld %s\n", rc, rc < 0 && err != NULL ? err : "");
	free(err);
	circuit_close(c);
	return 0;
}
