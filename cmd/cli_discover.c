/* cli_discover.c - the client's -discover: ask the multicast group for a server.
 *
 * The query goes to the group every 500 ms; the first server that answers (to us
 * alone) is the one we dial.  With no answer within DISCOVER_WAIT_MS the command
 * fails with a clear message: it never hangs.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "cmd/cli.h"
#include "net/discover.h"

#define DISCOVER_WAIT_MS 3000
#define DISCOVER_RESEND_MS 500

static long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int
cli_discover(const char *spec, char *url, size_t size, char *err, size_t errsize)
{
	char host[64], buf[1024];
	struct sockaddr_in group;
	struct pollfd pfd;
	long start = ms_now(), next = start;
	unsigned char ttl = 1;
	ssize_t n;
	int port, fd;

	if (discover_parse(spec, host, sizeof host, &port) < 0) {
		snprintf(err, errsize, "-discover %s: want MCAST:PORT", spec ? spec : "");
		return -EINVAL;
	}
	memset(&group, 0, sizeof group);
	group.sin_family = AF_INET;
	group.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &group.sin_addr) != 1) {
		snprintf(err, errsize, "-discover %s:%d: not an IPv4 address", host, port);
		return -EINVAL;
	}
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errsize, "-discover: socket: %s", strerror(errno));
		return -errno;
	}
	setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		long now = ms_now(), wait;

		if (now - start >= DISCOVER_WAIT_MS)
			break;
		if (now >= next) {
			(void)sendto(fd, DISCOVER_QUERY, strlen(DISCOVER_QUERY), 0,
			    (struct sockaddr *)&group, sizeof group);
			next = now + DISCOVER_RESEND_MS;
		}
		wait = next - now;
		if (wait > DISCOVER_WAIT_MS - (now - start))
			wait = DISCOVER_WAIT_MS - (now - start);
		if (poll(&pfd, 1, (int)wait) <= 0)
			continue;
		n = recv(fd, buf, sizeof buf, 0);
		if (n > 0 && discover_answer(buf, (size_t)n, url, size) == 0) {
			close(fd);
			return 0;
		}
	}
	close(fd);
	snprintf(err, errsize, "-discover: no server answered on %s:%d within %d s (is one "
	    "started with -discover on this network?)", host, port, DISCOVER_WAIT_MS / 1000);
	return -EHOSTUNREACH;
}
