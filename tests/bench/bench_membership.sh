#!/bin/bash
# bench_membership.sh - the membership targets, simulated at N=200 and
# N=1,000 with 5 % loss over 600 s with 20 crashes: detection median <= 3 s
# and p99 <= 5 s, zero false deaths, <= 4 datagrams sent per node per second
# (flat in N), and the CPU time of the 1,000-node run.  Figures, not tests:
# each line says PASS or MISS and the script always succeeds.
cd "$(dirname "$0")/../.."
SIM=${CIRCUIT_SIM:-bin/circuit-sim}
[ -x "$SIM" ] || { echo "bench_membership: $SIM not built"; exit 0; }

for n in 200 1000; do
	out=$("$SIM" --nodes $n --seconds 600 --seed 7 --loss 0.05 --crash 20)
	python3 -c '
import json, sys
r = json.loads(sys.argv[1])
n = r["nodes"]
def line(name, value, target, ok, unit=""):
    v = "null" if value is None else ("%.3g%s" % (value, unit))
    print("membership N=%-5d %-28s %-10s / %-12s %s" %
          (n, name, v, target, "PASS" if ok else "MISS"))
med, p99 = r["detect_median_s"], r["detect_p99_s"]
line("detection median", med, "<= 3 s", med is not None and med <= 3, " s")
line("detection p99", p99, "<= 5 s", p99 is not None and p99 <= 5, " s")
line("crashes seen by all", r["crashes"] - r["undetected"], "%d" % r["crashes"],
     r["undetected"] == 0)
line("false deaths", r["false_deaths"], "0", r["false_deaths"] == 0)
d = r["datagrams_per_node_s"]
line("datagrams/node/s", d, "<= 4", d <= 4)
print("membership N=%-5d %-28s %.4g bytes/node/s (no target)" %
      (n, "bytes/node/s", r["bytes_per_node_s"]))
print("membership N=%-5d %-28s %.3g s (no target)" %
      (n, "converged after joins", r["converged_s"] or -1))
if n == 1000:
    line("CPU 1,000 nodes x 600 s", r["cpu_s"], "< 60 s", r["cpu_s"] < 60,
         " s")
' "$out"
done
exit 0
