/* service.c - the daemon side of `circuit start`: log file and systemd readiness.
 *
 * mount.circuit and the systemd unit run the server with -log FILE.  Diagnostics go to
 * standard error, so the log is made standard error with dup2: whatever writes to
 * stderr (libfuse too) lands in the file, and a reopen swaps it under every writer at
 * once.  Readiness is the notify protocol of sd_notify(3), spoken directly: one
 * datagram to $NOTIFY_SOCKET (libsystemd and the six libraries it loads cost the
 * idle server about 1 MB of RSS, for one sendto).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "cmd/service.h"

static char *log_path;

/* Open path safely (see service.h) and put it on standard error. */
static int
log_to_stderr(const char *path)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0640);
	int rc = 0;

	if (fd < 0)
		return -errno;
	fflush(stderr);
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		rc = -EINVAL;
	else if (dup2(fd, STDERR_FILENO) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int
service_log_open(const char *path)
{
	int rc = log_to_stderr(path);

	if (rc < 0)
		return rc;
	free(log_path);
	log_path = strdup(path);
	return log_path != NULL ? 0 : -ENOMEM;
}

int
service_log_reopen(void)
{
	return log_path != NULL ? log_to_stderr(log_path) : 0;
}

int
service_has_log(void)
{
	return log_path != NULL;
}

/* Send msg to the service manager that started us: a datagram to the AF_UNIX socket
 * named by $NOTIFY_SOCKET (a leading '@' is the abstract namespace).  The manager
 * learns our pid from the socket's credentials.  Nothing without $NOTIFY_SOCKET, and
 * an address of another kind (vsock) is not ours to speak. */
static void
notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len < 2 || len >= sizeof sa.sun_path) {
		fprintf(stderr, "circuit: NOTIFY_SOCKET %s: not a socket name\n", path);
		return;
	}
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		fprintf(stderr, "circuit: NOTIFY_SOCKET %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

void
service_ready(const char *url)
{
	char msg[512];

	snprintf(msg, sizeof msg, "READY=1\nSTATUS=serving %s", url);
	notify(msg);
}

void
service_stopping(void)
{
	notify("STOPPING=1");
}
