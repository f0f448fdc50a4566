/* start.c - `circuit start`: run a server in the foreground.
 *
 * Prints the server's URL as the first line of stdout, serves the tree at -m DIR,
 * and shuts down cleanly on SIGINT/SIGTERM, `suicide`, or an outside unmount.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <sodium.h>
#include <net/if.h>

#include "cmd/cmd.h"
#include "cmd/flag.h"
#include "cmd/service.h"
#include "elements/anchor.h"
#include "elements/dkr.h"
#include "elements/log.h"
#include "elements/op.h"
#include "elements/proc.h"
#include "elements/server.h"
#include "fs/fs.h"
#include "net/conn.h"
#include "net/key.h"
#include "net/net.h"
#include "net/discover.h"
#include "net/url.h"

static uv_loop_t *loop;
static uv_signal_t sigint, sigterm, sighup;
static uv_timer_t stop_timer, reap_timer;
static int reap_ticks;
#define REAP_TICK_MS	10
#define REAP_MAX_MS	5000
static int stopping, stop_requested, exit_status;

/* The flags of `circuit start`: one table parses them and prints the usage.  To add a
 * flag, add its enum value, its row and its case in cmd_start. */
enum {
	F_ADDR,
	F_IFACE,
	F_JOIN,
	F_MOUNT,
	F_VAR,
	F_LOG,
	F_DISCOVER,
	F_HMAC,
	F_INSECURE,
	F_DOCKER,
	F_VERBOSE,
	F_HELP,
	NFLAGS
};

static const struct flag start_flags[NFLAGS] = {
	[F_ADDR] = { "a", NULL, required_argument, "HOST:PORT",
	  "listen address (port 0: any free port; default 127.0.0.1:0)" },
	[F_IFACE] = { "if", NULL, required_argument, "IFACE",
	  "listen on the first IPv4 address of that interface" },
	[F_JOIN] = { "j", NULL, required_argument, "URL",
	  "join the cluster of the server at URL" },
	[F_MOUNT] = { "m", NULL, required_argument, "DIR",
	  "mount the whole tree at DIR (FUSE)" },
	[F_VAR] = { "var", NULL, required_argument, "DIR",
	  "state directory: the operation log is appended to DIR/log" },
	[F_LOG] = { "log", NULL, required_argument, "FILE",
	  "append the diagnostics (standard error) to FILE; SIGHUP reopens it\n"
	  "(logrotate), and no longer stops the server" },
	[F_DISCOVER] = { "discover", NULL, optional_argument, "MCAST:PORT",
	  "find other servers by UDP multicast (default $CIRCUIT_DISCOVER,\n"
	  "else 228.8.8.8:8822), on the -if interface if given" },
	[F_HMAC] = { "hmac", NULL, required_argument, "FILE",
	  "cluster key file (see circuit keygen); without it, $CIRCUIT_HMAC,\n"
	  "else your own key ~/.circuit.key (made once, mode 0600): every\n"
	  "connection is authenticated and encrypted with the key" },
	[F_INSECURE] = { "insecure", NULL, no_argument, NULL,
	  "no key: plaintext, as the seed (anyone who reaches the port can\n"
	  "run processes as this user)" },
	[F_DOCKER] = { "docker", NULL, no_argument, NULL,
	  "enable container elements (mkdkr)" },
	[F_VERBOSE] = { "v", NULL, no_argument, NULL,
	  "print every operation on stderr" },
	[F_HELP] = { "h", "help", no_argument, NULL,
	  "print this help" },
};

static void
start_usage(FILE *f)
{
	flag_synopsis(f, "usage: circuit start", start_flags, NFLAGS);
	fputs("\n"
	    "Run a circuit server in the foreground.  Its URL (circuit://HOST:PORT/XID) is the\n"
	    "first line of stdout.  SIGINT or SIGTERM stop it cleanly (the mount goes too),\n"
	    "and so does SIGHUP unless it runs with -log.\n"
	    "Flags may be written -flag, --flag, -flag VALUE or -flag=VALUE.\n"
	    "\n", f);
	flag_usage(f, start_flags, NFLAGS);
}

/* An optional -discover value is MCAST:PORT; start takes no other words. */
static int
looks_like_addr(const char *a)
{
	return a[0] != '-' && strchr(a, ':') != NULL;
}

static void
on_closed_walk(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* The scrub killed every child; close the handles once they are all reaped (so none
 * stays a zombie, and every exit callback runs), or after REAP_MAX_MS. */
static void
on_reap_timer(uv_timer_t *t)
{
	if (proc_running() > 0 && ++reap_ticks * REAP_TICK_MS < REAP_MAX_MS)
		return;
	if (proc_running() > 0)
		log_warnx("%d killed children not reaped after %d ms", proc_running(), REAP_MAX_MS);
	uv_timer_stop(t);
	uv_walk(loop, on_closed_walk, NULL);
}

/* Stop everything: answer pending requests, unmount, scrub elements (which kills
 * every process group), reap the children, close handles. */
static void
shutdown_server(int status)
{
	if (stopping)
		return;
	stopping = 1;
	g_server.stopping = 1;
	exit_status = status;
	service_stopping();
	fs_unmount();
	server_fini();
	/* Replies of finished requests go out before the connections close (a remote
	 * `suicide` then sees success); then the peers hear we leave. */
	op_drain();
	net_stop();
	op_drain();
	uv_timer_init(loop, &reap_timer);
	uv_timer_start(&reap_timer, on_reap_timer, 0, REAP_TICK_MS);
}

static void
on_stop_timer(uv_timer_t *t)
{
	shutdown_server(exit_status);
}

/* g_server.stop (suicide): shut down from the loop, never inside the operation that
 * asked, whose FUSE handler or RPC still holds its request and the session. */
static void
request_stop(int status)
{
	if (stopping || stop_requested)
		return;
	stop_requested = 1;
	exit_status = status;
	uv_timer_init(loop, &stop_timer);
	uv_timer_start(&stop_timer, on_stop_timer, 0, 0);
}

/* Append the operation log to VAR/log (again, after a SIGHUP). */
static int
reopen_oplog(const char *var)
{
	char *logpath;
	int rc;

	if (asprintf(&logpath, "%s/log", var) < 0)
		return -ENOMEM;
	rc = oplog_open_file(logpath);
	free(logpath);
	return rc;
}

static void
on_signal(uv_signal_t *h, int signum)
{
	log_info("%s: shutting down", strsignal(signum));
	shutdown_server(0);
}

/* SIGHUP: a daemon with a log file reopens it and the operation log (logrotate moved
 * them away); a server in a terminal stops, as the terminal has gone. */
static void
on_sighup(uv_signal_t *h, int signum)
{
	int rc;

	if (!service_has_log()) {
		on_signal(h, signum);
		return;
	}
	if ((rc = service_log_reopen()) < 0)
		log_warnx("SIGHUP: reopening the log file: %s", strerror(-rc));
	if (g_server.vardir != NULL && (rc = reopen_oplog(g_server.vardir)) < 0)
		log_warnx("SIGHUP: reopening %s/log: %s", g_server.vardir, strerror(-rc));
	log_info("SIGHUP: log files reopened");
}

static void
on_mount_gone(void)
{
	log_info("unmounted from outside: shutting down");
	shutdown_server(0);
}

/* The first IPv4 address of interface name, into buf. */
static int
iface_addr(const char *name, char *buf, size_t size)
{
	struct ifaddrs *ifa, *p;
	int rc = -ENOENT;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (p = ifa; p != NULL; p = p->ifa_next)
		if (p->ifa_addr != NULL && p->ifa_addr->sa_family == AF_INET &&
		    strcmp(p->ifa_name, name) == 0) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)p->ifa_addr)->sin_addr, buf, size);
			rc = 0;
			break;
		}
	freeifaddrs(ifa);
	return rc;
}

/* The server is ready: its URL is the first line of stdout, and systemd hears it. */
static void
announce(void)
{
	printf("%s\n", g_server.url);
	fflush(stdout);
	service_ready(g_server.url);
}

/* The initial join (-j) finished: only now is the URL printed, so whoever waits for
 * it (a script, mount.circuit) sees a server that is already in the cluster. */
static void
on_joined(int status, const char *msg, void *arg)
{
	const char *url = arg;

	if (status < 0) {
		fprintf(stderr, "circuit start: -j %s: %s\n", url, msg != NULL ? msg : strerror(-status));
		/* From the loop: this runs inside net/'s handling of the lost connection,
		 * which must not see the member table torn down under it. */
		request_stop(1);
		return;
	}
	announce();
}

int
cmd_start(int argc, char **argv)
{
	const char *addr = NULL, *iface = NULL, *mnt = NULL, *var = NULL, *join = NULL;
	const char *hmac = NULL, *logfile = NULL, *discover = NULL;
	char host[256] = "127.0.0.1", ifbuf[64], *msg = NULL, *v, keymsg[512];
	const char *badflag;
	struct flag_parser fp;
	uint8_t key[KEY_LEN];
	int port = 0, bound = 0, verbose = 0, insecure = 0, have_key, rc, f;

	if (flag_init(&fp, start_flags, NFLAGS, argc, argv) < 0)
		abort();
	while ((f = flag_next(&fp, &v, &badflag, looks_like_addr)) != FLAG_END) {
		switch (f) {
		case F_HELP:
			start_usage(stdout);
			return 0;
		case F_ADDR:
			addr = v;
			break;
		case F_IFACE:
			iface = v;
			break;
		case F_MOUNT:
			mnt = v;
			break;
		case F_VAR:
			var = v;
			break;
		case F_LOG:
			logfile = v;
			break;
		case F_JOIN: {
			struct url u;
			join = v;
			if (url_parse(join, &u, 0) < 0) {
				fprintf(stderr, "circuit start: -j %s: want circuit://HOST:PORT/XID "
				    "(HOST numeric)\n", join);
				return 2;
			}
			break;
		}
		case F_DISCOVER: {
			char h[64];
			int p;
			discover = v != NULL ? v : "";
			if (discover_parse(discover, h, sizeof h, &p) < 0) {
				fprintf(stderr, "circuit start: -discover %s: want MCAST:PORT "
				    "(numeric IPv4 multicast address)\n", discover);
				return 2;
			}
			break;
		}
		case F_HMAC:
			hmac = v;
			break;
		case F_INSECURE:
			insecure = 1;
			break;
		case F_DOCKER:
			g_server.docker = 1;
			break;
		case F_VERBOSE:
			verbose = 1;
			break;
		case FLAG_ARG:
			fprintf(stderr, "circuit start: unexpected argument %s (circuit start -h "
			    "lists the flags)\n", v);
			return 2;
		default:
			fprintf(stderr, "circuit start: %s: %s (circuit start -h lists the flags)\n",
			    badflag, flag_why(f));
			return 2;
		}
	}
	log_init("circuit", verbose);
	/* The log first: every later message of a daemon belongs in it. */
	if (logfile != NULL && (rc = service_log_open(logfile)) < 0) {
		fprintf(stderr, "circuit start: -log %s: %s\n", logfile,
		    rc == -ELOOP ? "is a symbolic link (refused: it could point anywhere)" :
		    rc == -EINVAL ? "not a plain file with a single link (refused)" : strerror(-rc));
		return 1;
	}
	/* Every process element starts through the exec helper: a server without it could
	 * run none, so say it now rather than at each mkproc. */
	if ((rc = proc_exec_check()) < 0) {
		fprintf(stderr, "circuit start: exec helper %s: %s (make install puts it beside "
		    "circuit)\n", proc_exec_helper() != NULL ? proc_exec_helper() : PROC_EXEC_NAME,
		    strerror(-rc));
		return 1;
	}
	if (key_find(hmac, insecure, key, &have_key, keymsg, sizeof keymsg) < 0) {
		fprintf(stderr, "circuit start: %s\n", keymsg);
		return insecure ? 2 : 1;	/* with -insecure, only a usage error fails */
	}
	if (addr != NULL) {
		const char *colon = strrchr(addr, ':');
		size_t hl = colon != NULL ? (size_t)(colon - addr) : strlen(addr);
		int v6 = addr[0] == '[', bad;
		char *end;
		long p = -1;
		bad = colon == NULL || hl == 0 || hl >= sizeof host ||
		    (v6 && (hl < 3 || addr[hl - 1] != ']'));
		if (!bad) {
			memcpy(host, v6 ? addr + 1 : addr, v6 ? hl - 2 : hl);
			host[v6 ? hl - 2 : hl] = '\0';
			errno = 0;
			p = strtol(colon + 1, &end, 10);
			bad = colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
			    p > 65535;
		}
		if (bad) {
			fprintf(stderr, "circuit start: -a %s: want HOST:PORT (PORT 0..65535)\n", addr);
			return 2;
		}
		port = (int)p;
	} else if (iface != NULL) {
		if (iface_addr(iface, ifbuf, sizeof ifbuf) < 0) {
			fprintf(stderr, "circuit start: -if %s: no IPv4 address on that interface\n", iface);
			return 1;
		}
		snprintf(host, sizeof host, "%s", ifbuf);
	}
	signal(SIGPIPE, SIG_IGN);
	loop = uv_default_loop();
	/* Signals first: a SIGTERM that came between the mount and the handlers would
	 * kill the process by default and leave a stale mount behind. */
	uv_signal_init(loop, &sigint);
	uv_signal_start(&sigint, on_signal, SIGINT);
	uv_signal_init(loop, &sigterm);
	uv_signal_start(&sigterm, on_signal, SIGTERM);
	uv_signal_init(loop, &sighup);
	uv_signal_start(&sighup, on_sighup, SIGHUP);
	if ((rc = net_listen(loop, host, port, &bound)) < 0) {
		fprintf(stderr, "circuit start: listen on %s:%d: %s\n", host, port, uv_strerror(rc));
		return 1;
	}
	if ((rc = server_init(loop, host, bound)) < 0) {
		fprintf(stderr, "circuit start: %s\n", strerror(-rc));
		return 1;
	}
	g_server.stop = request_stop;
	g_server.secure = have_key;
	rc = conn_set_key(have_key ? key : NULL, g_server.id);
	sodium_memzero(key, sizeof key);
	if (rc < 0) {
		fprintf(stderr, "circuit start: libsodium does not initialise\n");
		return 1;
	}
	if (g_server.docker)
		dkr_sweep();	/* containers a crashed server of this host left */
	if ((rc = net_init(loop)) < 0) {
		fprintf(stderr, "circuit start: cluster layer: %s\n", strerror(-rc));
		return 1;
	}
	if (var != NULL) {
		if (mkdir(var, 0700) < 0 && errno != EEXIST) {
			fprintf(stderr, "circuit start: -var %s: %s\n", var, strerror(errno));
			return 1;
		}
		g_server.vardir = strdup(var);
		if ((rc = reopen_oplog(var)) < 0)
			fprintf(stderr, "circuit start: %s/log: %s\n", var, strerror(-rc));
	}
	if (!have_key && strcmp(host, "::1") != 0 && strncmp(host, "127.", 4) != 0)
		log_warnx("WARNING: -insecure and listening on %s: traffic is plaintext and anyone "
		    "who reaches this port can run processes as this user", host);
	if (mnt != NULL) {
		char real[4096];
		if ((rc = fs_mount(loop, mnt, on_mount_gone, &msg)) < 0) {
			fprintf(stderr, "circuit start: %s\n", msg != NULL ? msg : strerror(-rc));
			free(msg);
			return 1;
		}
		g_server.mountpoint = strdup(realpath(mnt, real) != NULL ? real : mnt);
	}
	if (discover != NULL &&
	    (rc = discover_start(loop, discover, iface != NULL ? host : NULL)) < 0) {
		fprintf(stderr, "circuit start: -discover %s: %s\n", *discover ? discover :
		    "(default)", rc == -EINVAL ? "want a multicast MCAST:PORT" : uv_strerror(rc));
		shutdown_server(1);
		uv_run(loop, UV_RUN_DEFAULT);
		return 1;
	}
	if (join != NULL) {
		if ((rc = net_join(join, on_joined, (void *)(uintptr_t)join)) < 0) {
			fprintf(stderr, "circuit start: -j %s: %s\n", join, strerror(-rc));
			shutdown_server(1);
		}
	} else {
		announce();
	}
	oplog("server", g_server.root->path, "start", 0, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	/* Let the closes and last completions run. */
	uv_run(loop, UV_RUN_DEFAULT);
	return exit_status;
}
