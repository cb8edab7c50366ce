#!/bin/sh
# Benchmark of `celerywatch explain` on a generated event log (default 1,000,000 lines):
# four prefork workers recycling pool children (fork + exit 155), a depth sample every second,
# signals, lost marks, one OOM kill of a MainProcess and cron's `celery inspect ping` each
# minute. Prints lines, size and wall times.
# SCHEMA=2 writes a v2 log: a proc_sample line (every worker process) with each sample.
#
#   tools/bench_explain.sh [LINES] [CELERYWATCH]       (make bench-explain)
#
# Each command runs RUNS times (default 3) under /usr/bin/time -v: the best wall time and its
# max RSS are printed. OLD=path/to/celerywatch adds that binary's text and --json runs (an
# earlier build, side by side); `jq -c .` on the same file is the reference (JQ=0: skip it).
# Not a test: figures depend on the machine. The log is written to a temporary directory
# and removed afterwards (set KEEP=1 to keep it).
set -eu

LINES=${1:-1000000}
BIN=${2:-./build/celerywatch}
RUNS=${RUNS:-3}
[ -x "$BIN" ] || { echo "bench_explain: $BIN not built (run make)" >&2; exit 1; }

DIR=$(mktemp -d /tmp/cw_bench.XXXXXX)
LOG=$DIR/bench.jsonl
trap '[ "${KEEP:-0}" = 1 ] || rm -rf "$DIR"' EXIT

/usr/bin/python3 - "$LINES" "$LOG" "${SCHEMA:-1}" <<'EOF'
import json, sys, datetime
n_target, path, schema = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
t0 = datetime.datetime(2026, 11, 24, 0, 0, 0, tzinfo=datetime.timezone.utc)
us = 0
out = open(path, "w")
count = 0
def ts():
    return (t0 + datetime.timedelta(microseconds=us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
def w(o):
    global count
    out.write(json.dumps(o, separators=(",", ":")) + "\n")
    count += 1
def line(typ, pid, **kw):
    o = {"v": schema, "type": typ, "ts": ts(), "host": "web1", "pid": pid}
    o.update(kw)
    w(o)
queues = ["high_priority", "low_priority", "daemon", "celery"]
workers = []
w({"v": schema, "type": "tracer_start", "ts": ts(), "host": "web1", "pid": 900, "version": "bench",
   "kernel": "6.1.0", "schema": schema, "options": {"all": False, "output": path, "redis": None,
   "interval": 1, "queues": []}, "clock_ticks": 100})
pid, pstart = 10000, 5000
for i, q in enumerate(queues):
    name = "worker_%s@web1" % q
    wf = {"worker": name, "queues": [q], "role": "main"}
    argv = ["/usr/bin/python3", "/usr/bin/celery", "-A", "proj", "worker", "-n", name,
            "-Q", q, "-c", "8", "--max-tasks-per-child", "100"]
    line("scan", pid, ppid=1, uid=33, comm="celery", argv=argv, title=False,
         cgroup="/celery/%s" % q, pstart=pstart, concurrency=8, pool="prefork",
         max_tasks_per_child=100, app="proj", command="worker", **wf)
    kids = []
    for k in range(8):
        kp, ks = pid + 1 + k, pstart + 1 + k
        line("scan", kp, ppid=pid, uid=33, comm="celery", argv=argv, title=False,
             cgroup="/celery/%s" % q, pstart=ks, concurrency=8, pool="prefork",
             max_tasks_per_child=100, app="proj", command="worker",
             worker=name, queues=[q], role="pool")
        kids.append([kp, ks])
    workers.append({"pid": pid, "pstart": pstart, "name": name, "q": q, "kids": kids, "alive": True})
    pid += 100
    pstart += 100
nextpid, nextstart = 20000, 10000
depth = {q: 0 for q in queues}
step = 0
while count < n_target:
    us += 50000  # 50 ms
    step += 1
    wk = workers[step % len(workers)]
    if wk["alive"]:
        k = (step // len(workers)) % 8
        kp, ks = wk["kids"][k]
        pf = {"worker": wk["name"], "queues": [wk["q"]], "role": "pool"}
        if step % 97 == 0:
            line("signal", kp, pstart=ks, comm="celery", signal="SIGKILL", signo=9, code="user",
                 si_code=0, result="delivered", group=True,
                 sender={"pid": wk["pid"], "tid": wk["pid"], "comm": "celery", "uid": 33,
                         "cmdline": "[celeryd: %s:MainProcess]" % wk["name"], "argv": [],
                         "pstart": wk["pstart"]}, **pf)
            line("exit", kp, pstart=ks, ppid=wk["pid"], comm="celery", exit_code=None,
                 signal="SIGKILL", core_dumped=False, lifetime_s=3.2, maxrss_kb=81234,
                 stderr_tail=None, stderr_dropped=0, **pf)
        else:
            line("exit", kp, pstart=ks, ppid=wk["pid"], comm="celery", exit_code=155,
                 signal=None, core_dumped=False, lifetime_s=3.2, maxrss_kb=81234,
                 stderr_tail="task done\n", stderr_dropped=0, **pf)
        nextpid = nextpid + 1 if nextpid < 4000000 else 20000
        nextstart += 1
        line("fork", nextpid, pstart=nextstart, ppid=wk["pid"], parent_pstart=wk["pstart"],
             comm="celery", **pf)
        wk["kids"][k] = [nextpid, nextstart]
    if step % 20 == 0:
        for q in queues:
            depth[q] = max(0, depth[q] + (3 if q == "low_priority" and not workers[1]["alive"] else -1) + (step % 3))
        line("sample", 900, redis_ok=True, queues=[{"queue": q, "depth": depth[q],
             "by_priority": {"0": depth[q]}} for q in queues], unacked=0, unacked_index=0,
             latency_ms=0.3)
        if schema == 2:
            procs = []
            for wk2 in workers:
                if wk2["alive"]:
                    procs.append({"pid": wk2["pid"], "pstart": wk2["pstart"], "state": "S",
                                  "cpu_ticks": step, "ctxsw": step, "broker_conns": 1})
                    procs += [{"pid": kp, "pstart": ks, "state": "S", "cpu_ticks": step,
                               "ctxsw": step} for kp, ks in wk2["kids"]]
            line("proc_sample", 900, broker={"addr": "127.0.0.1:6379", "conn_known": True,
                 "client_list": True}, procs=procs)
    if step % 5003 == 0:
        line("lost", 900, count=3, by_type={"fork": 3}, total=step)
    if step % 1200 == 0:  # cron's `celery inspect ping`, once a minute
        nextpid = nextpid + 1 if nextpid < 4000000 else 20000
        nextstart += 1
        of = {"worker": None, "queues": None, "role": "other"}
        line("exec", nextpid, pstart=nextstart, ppid=1, uid=0, comm="celery",
             argv=["/usr/bin/python3", "/usr/bin/celery", "-A", "proj", "inspect", "ping"],
             argv_truncated=False, cgroup="/cron", app="proj", command="inspect", **of)
        line("exit", nextpid, pstart=nextstart, ppid=1, comm="celery", exit_code=0, signal=None,
             core_dumped=False, lifetime_s=1.1, maxrss_kb=52000, stderr_tail=None,
             stderr_dropped=0, **of)
    if count > n_target // 2 and workers[1]["alive"]:
        wk = workers[1]
        mf = {"worker": wk["name"], "queues": [wk["q"]], "role": "main"}
        line("oom", wk["pid"], pstart=wk["pstart"], comm="celery", uid=33, total_vm_kb=2400000,
             anon_rss_kb=1950000, file_rss_kb=40000, shmem_rss_kb=0, pgtables_kb=4000,
             oom_score_adj=0, cgroup="/celery/low_priority", tracked=True, **mf)
        line("exit", wk["pid"], pstart=wk["pstart"], ppid=1, comm="celery", exit_code=None,
             signal="SIGKILL", core_dumped=False, lifetime_s=999.0, maxrss_kb=1990000,
             stderr_tail=None, stderr_dropped=0, **mf)
        wk["alive"] = False
        pf = {"worker": wk["name"], "queues": [wk["q"]], "role": "pool"}
        for kp, ks in wk["kids"]:  # PDEATHSIG: the kernel, in the dying parent's context
            line("signal", kp, pstart=ks, comm="celery", signal="SIGKILL", signo=9,
                 code="kernel", si_code=128, result="delivered", group=True,
                 sender={"pid": wk["pid"], "tid": wk["pid"], "comm": "celery", "uid": 33,
                         "cmdline": "", "argv": [], "pstart": wk["pstart"]}, **pf)
            line("exit", kp, pstart=ks, ppid=1, comm="celery", exit_code=None,
                 signal="SIGKILL", core_dumped=False, lifetime_s=1.0, maxrss_kb=81234,
                 stderr_tail=None, stderr_dropped=0, **pf)
line("tracer_stop", 900, reason="SIGINT", events=count, lost=0, write_errors=0)
EOF

set -- $(wc -l -c < "$LOG")
echo "log: $1 lines, $(($2 / 1048576)) MiB"
# best of RUNS: wall seconds and max RSS from /usr/bin/time -v
t() {
	label=$1
	shift
	best=""
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -v -o "$DIR/time" "$@" > "$DIR/out" 2> "$DIR/err" || true
		wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0;
			for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$DIR/time")
		rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$DIR/time")
		if [ -z "$best" ] || [ "$(echo "$wall < $best" | bc)" = 1 ]; then
			best=$wall
			best_rss=$rss
		fi
	done
	printf '%-28s %6.2f s  %5s MiB  (%s bytes out)\n' "$label" "$best" "$best_rss" \
		"$(wc -c < "$DIR/out")"
}
echo "best of $RUNS: wall, max RSS"
t "explain (text)" "$BIN" explain "$LOG"
t "explain --json" "$BIN" explain --json "$LOG"
t "explain --html" "$BIN" explain --html "$DIR/out.html" "$LOG"
if [ -n "${OLD:-}" ]; then
	t "old explain (text)" "$OLD" explain "$LOG"
	t "old explain --json" "$OLD" explain --json "$LOG"
fi
if command -v jq > /dev/null && [ "${JQ:-1}" = 1 ]; then
	t "jq -c ." jq -c . "$LOG"
fi
# the recorder's live engine on the same log, judged every 100,000 lines (LIVE_JUDGE: its
# binary, built by make bench-explain)
if [ -x "${LIVE_JUDGE:-}" ]; then
	/usr/bin/time -f "live engine: %e s, max RSS %M KiB" "$LIVE_JUDGE" "$LOG" 2>&1 | tail -4
fi
"$BIN" explain "$LOG" | head -8
