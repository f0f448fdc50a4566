/* mount_circuit.c - mount.circuit: mount(8)'s calling convention onto `circuit start`.
 *
 *   mount.circuit [SPEC] DIR [-o OPTS]       (mount -t circuit SPEC DIR -o OPTS)
 *
 * SPEC is `circuit` or `none` (a new cluster) or a circuit URL to join.  It checks
 * DIR, starts `circuit start -m DIR ...` as a daemon (its own session, output to a
 * log file), and returns only once the mount answers, or fails with one clear line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS	64
#define WAIT_MS		15000

static const char usage[] =
"usage: mount.circuit [SPEC] DIR [-o OPTIONS]\n"
"\n"
"Start a circuit server on this host, as a daemon, with the whole tree mounted at DIR.\n"
"SPEC is circuit or none (start a new cluster), or circuit://HOST:PORT/XID (join it).\n"
"OPTIONS (comma-separated; mount's generic ones are ignored):\n"
"  a=HOST:PORT  listen address (default 127.0.0.1:0)   if=IFACE  listen on IFACE\n"
"  j=URL        join that server's cluster              discover[=MCAST:PORT]\n"
"  hmac=FILE    cluster key file                        docker    enable containers\n"
"  insecure     no key: plaintext (default: root's own key, /root/.circuit.key)\n"
"  var=DIR      state directory (the log goes to DIR/log)\n"
"  log=FILE     where the daemon's messages go (default /tmp/circuit-mount.log, or\n"
"               VAR/server.log with var=)\n"
"Stop it with: umount DIR (or fusermount3 -u DIR).\n";

static int
generic_option(const char *o)
{
	static const char *const generic[] = {
		"rw", "ro", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "auto", "noauto",
		"user", "nouser", "users", "defaults", "_netdev", "nofail", "relatime",
		"noatime", "atime", "async", "sync", NULL
	};

	if (strncmp(o, "x-", 2) == 0 || strncmp(o, "comment=", 8) == 0)
		return 1;
	for (const char *const *g = generic; *g != NULL; g++)
		if (strcmp(o, *g) == 0)
			return 1;
	return 0;
}

/* The circuit binary: beside this one, else on PATH. */
static void
find_circuit(char *buf, size_t size)
{
	char self[PATH_MAX - 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(buf, size, "%s/circuit", self);
			if (access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, size, "circuit");
}

static int
is_mounted(const char *dir)
{
	char line[4096], mnt[PATH_MAX];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && strcmp(mnt, dir) == 0 &&
		    strstr(line, " - fuse") != NULL)
			found = 1;
	fclose(f);
	return found;
}

static void
die(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "mount.circuit: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	exit(32);	/* mount(8): mount failure */
}

/* Print the last lines of the daemon's log, which say why it failed. */
static void
show_log(const char *path, off_t from)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	off_t size;
	ssize_t n;

	if (fd < 0)
		return;
	/* Only what this start wrote, and at most its last 4 KiB. */
	size = lseek(fd, 0, SEEK_END);
	if (size - from > (off_t)sizeof buf - 1)
		from = size - (off_t)sizeof buf + 1;
	lseek(fd, from, SEEK_SET);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		fputs(buf, stderr);
	}
}

static off_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

int
main(int argc, char **argv)
{
	char *args[MAX_ARGS], circuit[PATH_MAX], real[PATH_MAX], logpath[PATH_MAX] = "";
	static char optcopy[4096], flags[MAX_ARGS][32];
	char *spec = NULL, *dir = NULL, *opts = NULL, *var = NULL;
	int nargs = 0, out[2];
	off_t logstart;
	struct stat st;
	pid_t pid;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			opts = argv[++i];
		} else if (strncmp(argv[i], "-o", 2) == 0 && argv[i][2] != '\0') {
			opts = argv[i] + 2;
		} else if (argv[i][0] == '-') {
			continue;	/* mount's -n, -s, -f, -v: nothing for us */
		} else if (spec == NULL && dir == NULL && i + 1 < argc && argv[i + 1][0] != '-') {
			spec = argv[i];
		} else if (dir == NULL) {
			dir = argv[i];
		} else {
			fprintf(stderr, "mount.circuit: unexpected argument %s\n%s", argv[i], usage);
			return 1;
		}
	}
	if (dir == NULL) {
		fputs(usage, stderr);
		return 1;
	}
	if (stat(dir, &st) < 0 && errno != ENOTCONN)
		die("%s: %s", dir, strerror(errno));
	if (errno != ENOTCONN && !S_ISDIR(st.st_mode))
		die("%s: %s", dir, "not a directory");
	if (realpath(dir, real) == NULL)
		snprintf(real, sizeof real, "%s", dir);
	if (is_mounted(real))
		die("%s: already mounted%s", dir, " (unmount it first: umount DIR)");
	if (access("/dev/fuse", R_OK | W_OK) < 0)
		die("/dev/fuse: %s%s", strerror(errno), " (modprobe fuse; apt-get install fuse3)");

	find_circuit(circuit, sizeof circuit);
	args[nargs++] = circuit;
	args[nargs++] = "start";
	args[nargs++] = "-m";
	args[nargs++] = real;
	if (spec != NULL && strncmp(spec, "circuit://", 10) == 0) {
		args[nargs++] = "-j";
		args[nargs++] = spec;
	} else if (spec != NULL && strcmp(spec, "circuit") != 0 && strcmp(spec, "none") != 0) {
		die("%s: SPEC must be circuit, none or a circuit:// URL%s", spec, "");
	}
	if (opts != NULL && strlen(opts) >= sizeof optcopy)
		die("-o %s: too long%s", "OPTIONS", "");
	snprintf(optcopy, sizeof optcopy, "%s", opts != NULL ? opts : "");
	for (char *o = strtok(optcopy, ","); o != NULL; o = strtok(NULL, ",")) {
		char *eq = strchr(o, '=');
		if (generic_option(o))
			continue;
		if (nargs + 3 >= MAX_ARGS)
			die("%s%s: too many options", "", "");
		if (eq != NULL)
			*eq++ = '\0';
		if (strcmp(o, "log") == 0 && eq != NULL) {
			snprintf(logpath, sizeof logpath, "%s", eq);
			continue;
		}
		if (strcmp(o, "var") == 0 && eq != NULL)
			var = eq;
		if (strcmp(o, "a") != 0 && strcmp(o, "if") != 0 && strcmp(o, "j") != 0 &&
		    strcmp(o, "discover") != 0 && strcmp(o, "hmac") != 0 && strcmp(o, "docker") != 0 &&
		    strcmp(o, "insecure") != 0 &&
		    strcmp(o, "var") != 0)
			die("unknown option %s (see mount.circuit -h)%s", o, "");
		snprintf(flags[nargs], sizeof flags[nargs], "-%s", o);
		args[nargs] = flags[nargs];
		nargs++;
		if (eq != NULL)
			args[nargs++] = eq;
	}
	args[nargs] = NULL;
	if (logpath[0] == '\0')
		snprintf(logpath, sizeof logpath, "%s%s", var != NULL ? var : "/tmp",
		    var != NULL ? "/server.log" : "/circuit-mount.log");

	logstart = file_size(logpath);
	if (pipe(out) < 0)
		die("pipe: %s%s", strerror(errno), "");
	pid = fork();
	if (pid < 0)
		die("fork: %s%s", strerror(errno), "");
	if (pid == 0) {
		int fd, nul = open("/dev/null", O_RDWR);
		setsid();
		if (var != NULL)
			mkdir(var, 0700);
		fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(nul, 0);
		dup2(out[1], 1);
		dup2(fd >= 0 ? fd : nul, 2);
		close(out[0]);
		close(out[1]);
		execvp(circuit, args);
		fprintf(stderr, "mount.circuit: exec %s: %s\n", circuit, strerror(errno));
		_exit(127);
	}
	close(out[1]);

	/* The first stdout line is the URL; then wait for the mount to answer. */
	FILE *f = fdopen(out[0], "r");
	char url[512] = "";
	if (f == NULL || fgets(url, sizeof url, f) == NULL) {
		int status;
		waitpid(pid, &status, 0);
		fprintf(stderr, "mount.circuit: the server did not start; its log (%s) says:\n", logpath);
		show_log(logpath, logstart);
		return 32;
	}
	for (int waited = 0; waited < WAIT_MS; waited += 20) {
		char help[PATH_MAX + 8];
		int status;
		snprintf(help, sizeof help, "%s/help", real);
		if (is_mounted(real) && access(help, R_OK) == 0) {
			fputs(url, stdout);
			if (var != NULL) {
				/* Where `circuit -d $(cat VAR/url)` and scripts find this server. */
				char urlfile[PATH_MAX];
				snprintf(urlfile, sizeof urlfile, "%s/url", var);
				FILE *uf = fopen(urlfile, "w");
				if (uf != NULL) {
					fputs(url, uf);
					fclose(uf);
				}
			}
			fclose(f);
			return 0;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "mount.circuit: the server exited; its log (%s) says:\n", logpath);
			show_log(logpath, logstart);
			return 32;
		}
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGTERM);
	fprintf(stderr, "mount.circuit: %s: the mount did not answer within %d s\n", dir, WAIT_MS / 1000);
	return 32;
}
