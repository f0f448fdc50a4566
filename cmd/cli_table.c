/* cli_table.c - every `circuit` command with its synopsis, summary and help text.
 *
 * One table drives dispatch, argument counts, `circuit help` and `circuit CMD -h`, so
 * a command cannot exist without its help.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/cmd.h"
#include "cmd/flag.h"

#define X "/X88550014d4c82e4d"

static const struct cli_cmd cmds[] = {
	{ "start", "[flags]", 0, -1, 0, 0, NULL,
	  "run a server in the foreground (circuit start -h for its flags)",
	  "Runs a circuit server; its URL is the first line of its output.  `start` must be\n"
	  "the first word: circuit start -h lists its flags.\n"
	  "\nExample:\n  circuit start -a 10.0.0.1:0 -m /circuit\n" },
	{ "ls", "[-l] PATH", 1, 1, CLI_FLAG_LONG, 1, cli_ls,
	  "list the anchors under PATH (PATH/... recursively; / lists the servers)",
	  "Prints the full path of each anchor under PATH, one per line, sorted by name.\n"
	  "A PATH ending in /... lists every anchor below it, at any depth: `circuit ls /...`\n"
	  "lists every anchor of every server.  With -l each line starts with the kind of\n"
	  "element on the anchor (server, process, channel, ..., or empty).\n"
	  "\nExamples:\n  circuit ls /\n  circuit ls -l /...\n  circuit ls " X "/this/...\n" },
	{ "peek", "PATH", 1, 1, 0, 1, cli_snap,
	  "print the state of the element at PATH as JSON",
	  "Prints the element's peek file as indented JSON: a process's Cmd, Phase, Pid and\n"
	  "exit status; a channel's capacity and counters; a server's ID, URL and members.\n"
	  "\nExample:\n  circuit peek " X "/this/is/charlie\n" },
	{ "scrub", "PATH", 1, 1, 0, 1, cli_scrub,
	  "abort and remove the element at PATH",
	  "Kills and reaps a running process or container, aborts a channel, stops a DNS\n"
	  "server.  The anchor goes too unless it has sub-anchors.\n"
	  "\nExample:\n  circuit scrub " X "/pippi\n" },
	{ "mkproc", "PATH", 1, 1, 0, 1, cli_mkproc,
	  "start a process at PATH (Cmd JSON on stdin)",
	  "Reads a Cmd from standard input and starts that process on the server that owns\n"
	  "PATH, creating missing anchors along the path.  Only Path is required:\n"
	  "  {\"Path\": \"/bin/ls\", \"Args\": [\"/\"], \"Env\": [\"K=V\"], \"Dir\": \"/tmp\", \"Scrub\": false}\n"
	  "Scrub: true removes the element when the process exits.\n"
	  "\nExample:\n  circuit mkproc " X "/pippi <<EOF\n  {\"Path\": \"/bin/ls\", \"Args\": [\"/\"]}\n  EOF\n" },
	{ "mkdkr", "PATH", 1, 1, 0, 1, cli_mkdkr,
	  "start a docker container at PATH (spec JSON on stdin)",
	  "Like mkproc, for a container on a server started with -docker.  Spec fields:\n"
	  "Image, Memory, CpuShares, Lxc, Volume, Dir, Entry, Env, Path, Args, Scrub.\n"
	  "Only Image is required, a local one (nothing is pulled); Lxc is refused.\n"
	  "stdin, stdout, stderr, signal and scrub work as for a process; peek and wait\n"
	  "give the engine's inspect document (wait once it has stopped).\n"
	  "\nExample:\n  circuit mkdkr " X "/docky <<EOF\n"
	  "  {\"Image\": \"ubuntu\", \"Memory\": 1000000000, \"Path\": \"/bin/ls\", \"Args\": [\"/\"]}\n  EOF\n" },
	{ "stdin", "PATH", 1, 1, 0, 1, cli_copy_in,
	  "copy standard input to the process's stdin, then close it",
	  "\nExample:\n  cat /dev/null | circuit stdin " X "/pippi\n" },
	{ "stdout", "PATH", 1, 1, 0, 1, cli_copy_out,
	  "copy the process's stdout to standard output until it ends",
	  "\nExample:\n  circuit stdout " X "/pippi\n" },
	{ "stderr", "PATH", 1, 1, 0, 1, cli_copy_out,
	  "copy the process's stderr to standard output until it ends",
	  "\nExample:\n  circuit stderr " X "/pippi\n" },
	{ "wait", "PATH", 1, 1, 0, 1, cli_snap,
	  "wait until the process exits, then print its state as JSON",
	  "\nExample:\n  circuit wait " X "/pippi\n" },
	{ "waitall", "[PATH...]", 0, -1, 0, 1, cli_waitall,
	  "wait until every one of the processes has exited",
	  "Without PATH arguments, reads the paths from standard input, one per line (as\n"
	  "the seed did).  Prints nothing; fails if any of them cannot be waited for.\n"
	  "\nExample:\n  circuit waitall " X "/job1 " X "/job2\n" },
	{ "signal", "PATH SIG", 2, 2, 0, 1, cli_verb,
	  "send a signal (KILL, TERM, ... or a number) to the process",
	  "\nExample:\n  circuit signal " X "/pippi TERM\n" },
	{ "mkchan", "PATH CAP", 2, 2, 0, 1, cli_mkchan,
	  "make a channel with buffer capacity CAP at PATH",
	  "Like a Go channel of messages, CAP of which wait in its buffer (0: a send waits\n"
	  "for a receiver).  Missing anchors along the path are created.\n"
	  "\nExample:\n  circuit mkchan " X "/this/is/charlie 3\n" },
	{ "send", "PATH", 1, 1, 0, 1, cli_copy_in,
	  "send standard input as one message to the channel",
	  "Blocks until a receiver takes the message or the buffer has room.  A buffered\n"
	  "message holds at most 32 KiB; one handed to a waiting receiver has no limit.\n"
	  "If this command is killed mid-message, its receiver gets an error\n"
	  "(Software caused connection abort), never a clean end.  (A writer process\n"
	  "killed by a signal while writing to a mounted send file cannot be told from\n"
	  "one that closed it: what it wrote is a whole message.)\n"
	  "\nExample:\n  circuit send " X "/this/is/charlie < some_file\n" },
	{ "recv", "PATH", 1, 1, 0, 1, cli_copy_out,
	  "receive one message from the channel on standard output",
	  "Blocks until there is a message; fails with Broken pipe on a closed, drained\n"
	  "channel, and with Software caused connection abort if its sender vanished\n"
	  "mid-message.  Also takes the next event of a @join or @leave subscription.\n"
	  "\nExample:\n  circuit recv " X "/this/is/charlie\n" },
	{ "close", "PATH", 1, 1, 0, 1, cli_verb,
	  "close the channel (receivers drain it, then get Broken pipe)",
	  "\nExample:\n  circuit close " X "/this/is/charlie\n" },
	{ "mkdns", "PATH [ADDR]", 1, 2, 0, 1, cli_mkdns,
	  "start a DNS server at PATH, on ADDR (IP[:PORT]) or any free port",
	  "\nExample:\n  circuit mkdns " X "/mydns 127.0.0.1:5353\n" },
	{ "set", "PATH RR", 2, 2, 0, 1, cli_verb,
	  "add a resource record (zone-file syntax) to the DNS server",
	  "\nExample:\n  circuit set " X "/mydns \"miek.nl. 3600 IN MX 10 mx.miek.nl.\"\n" },
	{ "unset", "PATH NAME", 2, 2, 0, 1, cli_verb,
	  "remove every record of NAME from the DNS server",
	  "\nExample:\n  circuit unset " X "/mydns miek.nl.\n" },
	{ "mk@join", "PATH", 1, 1, 0, 1, cli_mkjoin,
	  "subscribe at PATH to servers joining (recv gives each one's path)",
	  "\nExample:\n  circuit mk@join " X "/watch/join\n  circuit recv " X "/watch/join\n" },
	{ "mk@leave", "PATH", 1, 1, 0, 1, cli_mkleave,
	  "subscribe at PATH to servers leaving (recv gives each one's path)",
	  "\nExample:\n  circuit mk@leave " X "/watch/leave\n  circuit recv " X "/watch/leave\n" },
	{ "join", "PATH URL", 2, 2, 0, 1, cli_verb,
	  "merge the cluster of server PATH with the cluster of the server at URL",
	  "\nExample:\n  circuit join " X " circuit://10.0.0.2:40123/X938fe923bcdef239\n" },
	{ "suicide", "PATH", 1, 1, 0, 1, cli_suicide,
	  "stop the server PATH",
	  "\nExample:\n  circuit suicide " X "\n" },
	{ "stk", "PATH", 1, 1, 0, 1, cli_stk,
	  "print the internal state of server PATH (for debugging)",
	  "Pending operations, peers and elements of the server that owns PATH.  A server\n"
	  "without that report yet gives its peek instead, and stk says so on stderr.\n"
	  "\nExample:\n  circuit stk " X "\n" },
	{ "keygen", "", 0, 0, 0, 0, cli_keygen,
	  "print a new random cluster key (for -hmac)",
	  "\nExample:\n  circuit keygen > ~/.circuit-key; chmod 600 ~/.circuit-key\n"
	  "  circuit start -hmac ~/.circuit-key ...\n" },
	{ "help", "[COMMAND]", 0, 1, 0, 0, cli_help,
	  "list the commands, or explain one",
	  "\nExample:\n  circuit help mkproc\n" },
};

const struct flag cli_flags[CLI_NFLAGS] = {
	[CLI_F_DIAL] = { "d", "dial", required_argument, "URL",
	  "dial in to the server at URL (circuit://HOST:PORT/XID); any server\n"
	  "of the cluster will do" },
	[CLI_F_DISCOVER] = { "discover", NULL, optional_argument, "MCAST:PORT",
	  "find a server by UDP multicast (default $CIRCUIT_DISCOVER, else\n"
	  "228.8.8.8:8822); fails within 3 s if none answers" },
	[CLI_F_HMAC] = { "hmac", NULL, required_argument, "FILE",
	  "cluster key file (see keygen); without it, $CIRCUIT_HMAC, else your\n"
	  "own key ~/.circuit.key, which your servers on this host use too" },
	[CLI_F_INSECURE] = { "insecure", NULL, no_argument, NULL,
	  "no key: plaintext, for a server started with -insecure" },
	[CLI_F_LONG] = { "l", "long", no_argument, NULL,
	  "ls: start each line with the kind of element" },
	[CLI_F_HELP] = { "h", "help", no_argument, NULL,
	  "explain the command, with an example" },
};

static const char env_help[] =
"Environment:\n"
"  CIRCUIT       file that holds the dial-in URL, when there is no -d (a leading ~ is\n"
"                your home): echo URL > ~/.circuit; export CIRCUIT=~/.circuit\n"
"  CIRCUIT_HMAC  cluster key file, when there is no -hmac\n";

/* The Flags and Environment sections of the help. */
static void
flags_help(FILE *f)
{
	fputs("Flags (before or after the command; -flag, --flag and -flag=VALUE alike):\n", f);
	flag_usage(f, cli_flags, CLI_NFLAGS);
	fprintf(f, "\n%s", env_help);
}

const struct cli_cmd *
cli_find(const char *name)
{
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

void
cli_help_all(FILE *f)
{
	fputs("usage: circuit COMMAND [flags] [args]\n\nCommands:\n", f);
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char head[32];

		snprintf(head, sizeof head, "%s %s", cmds[i].name, cmds[i].args);
		fprintf(f, "  %-19s %s\n", head, cmds[i].summary);
	}
	fputc('\n', f);
	flags_help(f);
	fputc('\n', f);
	fputs("Exit status: 0 on success, 1 when an operation fails, 2 on a usage error.\n"
	    "An anchor path is /XID/name/...: `circuit ls /` lists the servers (XIDs).\n"
	    "The cluster is also a file system: `circuit start -m DIR`, then read DIR/help.\n"
	    "circuit COMMAND -h explains one command.\n", f);
}

void
cli_help_cmd(const struct cli_cmd *cmd)
{
	printf("usage: circuit %s%s%s%s\n\n%s.\n", cmd->name,
	    cmd->dials ? " [-d URL]" : "", *cmd->args != '\0' ? " " : "", cmd->args,
	    cmd->summary);
	if (cmd->help[0] != '\n')
		fputc('\n', stdout);
	fputs(cmd->help, stdout);
	if (cmd->dials) {
		fputc('\n', stdout);
		flags_help(stdout);
	}
}

int
cli_help(struct cli *c)
{
	const struct cli_cmd *cmd;

	if (c->nargs == 0) {
		cli_help_all(stdout);
		return CLI_OK;
	}
	cmd = cli_find(c->args[0]);
	if (cmd == NULL)
		return cli_usage(c, "unknown command %s", c->args[0]);
	cli_help_cmd(cmd);
	return CLI_OK;
}

int
cli_keygen(struct cli *c)
{
	return cmd_keygen();
}
