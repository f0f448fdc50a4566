/* client_lost.c - a stream's close after its connection was lost, through the client
 * library (net/client.h).
 *
 *   client_lost URL PATH PID   open PATH's `send` (a buffered channel), write one
 *                              message, SIGKILL the server PID, see a call fail, then
 *                              close the stream.
 *
 * Prints "write N", "stat RC", "close RC" (negative errnos): the close of a stream whose
 * connection is known to be gone must fail, since no RELEASE ended the message.
 * Built against the client library's sources by the test (see test_cli_stream.sh).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "net/client.h"

int
main(int argc, char **argv)
{
	struct circuit *c;
	struct circuit_stream *s;
	json_t *j = NULL;
	char *err = NULL;
	long rc;

	if (argc != 4) {
		fputs("usage: client_lost URL PATH PID\n", stderr);
		return 2;
	}
	if (circuit_dial(argv[1], NULL, &c, &err) < 0 ||
	    circuit_open(c, argv[2], "send", CIRCUIT_WRITE, &s, &err) < 0) {
		fprintf(stderr, "client_lost: %s\n", err);
		return 1;
	}
	printf("write %ld\n", (long)circuit_write(s, "message", 7, NULL));
	fflush(stdout);
	kill((pid_t)atoi(argv[3]), SIGKILL);
	printf("stat %d\n", circuit_stat(c, argv[2], &j, NULL));
	json_decref(j);
	rc = circuit_stream_close(s, &err);
	printf("close %ld\n", rc);
	if (rc < 0)
		fprintf(stderr, "%s\n", err);
	free(err);
	circuit_close(c);
	return 0;
}
