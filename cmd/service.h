/* service.h - what `circuit start` does to run as a daemon: its own log file, reopened
 * on SIGHUP for logrotate, and readiness told to systemd (Type=notify).
 */
#ifndef CIRCUIT_SERVICE_H
#define CIRCUIT_SERVICE_H

/* Open path for appending and make it standard error (the diagnostics).  The last
 * component must not be a symlink and the file must be a regular file with one link,
 * so a name planted in a shared directory cannot make us append elsewhere.  0 or
 * -errno (-ELOOP: a symlink; -EINVAL: not a plain file). */
int service_log_open(const char *path);

/* Open the same path again (logrotate moved the file away): 0 or -errno, and standard
 * error stays where it was on failure.  Nothing to do without a log file. */
int service_log_reopen(void);

/* Whether a log file was given. */
int service_has_log(void);

/* Tell the service manager, if one started us, that the server is ready: it serves
 * url, and its mount (if any) answers.  A no-op outside systemd. */
void service_ready(const char *url);

/* Tell the service manager that the server is stopping. */
void service_stopping(void);

#endif
