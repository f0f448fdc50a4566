/* service.c - the daemon side of `circuit start`: log file and systemd readiness.
 *
 * mount.circuit and the systemd unit run the server with -log FILE.  Diagnostics go to
 * standard error, so the log is made standard error with dup2: whatever writes to
 * stderr (libfuse too) lands in the file, and a reopen swaps it under every writer at
 * once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

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

void
service_ready(const char *url)
{
	sd_notifyf(0, "READY=1\nSTATUS=serving %s", url);
}

void
service_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}
