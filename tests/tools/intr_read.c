/* intr_read FILE MS [wronly]: open FILE and read it to EOF onto stdout (or, with
 * "wronly", open it for writing and copy stdin into it), with a one-shot SIGALRM after
 * MS milliseconds (a decimal, e.g. 0.3) whose handler does nothing and is installed without SA_RESTART, so
 * a blocked open/read/write returns EINTR.  Every byte read is written to stdout
 * before anything else happens, so nothing read can be lost by the interruption.
 * Exit: 0 done, 4 open gave EINTR, 5 read/write gave EINTR, 1 other error (on stderr).
 * stderr gets one line: "done N", "EINTR open", "EINTR read after N" or the error. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static void on_alarm(int sig) { (void)sig; }

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0)
			return -1;	/* EINTR included: the caller reports it */
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct itimerval it;
	static char buf[1 << 20];
	long long total = 0;
	int wr = argc > 3 && strcmp(argv[3], "wronly") == 0, fd;
	double ms;
	long us;

	if (argc < 3) {
		fprintf(stderr, "usage: intr_read FILE MS [wronly]\n");
		return 2;
	}
	ms = atof(argv[2]);
	us = (long)(ms * 1000.0);
	if (us < 1)
		us = 1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART */
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof it);
	it.it_value.tv_sec = us / 1000000;
	it.it_value.tv_usec = us % 1000000;
	setitimer(ITIMER_REAL, &it, NULL);
	fd = open(argv[1], wr ? O_WRONLY : O_RDONLY);
	if (fd < 0) {
		if (errno == EINTR) {
			fprintf(stderr, "EINTR open\n");
			return 4;
		}
		fprintf(stderr, "open: %s\n", strerror(errno));
		return 1;
	}
	for (;;) {
		ssize_t n = read(wr ? 0 : fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR) {
				fprintf(stderr, "EINTR read after %lld\n", total);
				return 5;
			}
			fprintf(stderr, "read: %s\n", strerror(errno));
			return 1;
		}
		if (n == 0)
			break;
		if (write_all(wr ? fd : 1, buf, (size_t)n) < 0) {
			if (errno == EINTR) {
				fprintf(stderr, "EINTR write after %lld\n", total);
				return 5;
			}
			fprintf(stderr, "write: %s\n", strerror(errno));
			return 1;
		}
		total += n;
	}
	if (close(fd) < 0) {
		fprintf(stderr, "close: %s\n", strerror(errno));
		return 1;
	}
	fprintf(stderr, "done %lld\n", total);
	return 0;
}
