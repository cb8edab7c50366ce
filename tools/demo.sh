#!/bin/bash
# `sudo make demo`: the incident in about 25 seconds, on this machine, with real Celery workers.
#
#   throwaway redis-server on a free loopback port
#   celerywatch record --redis ... --interval 0.5            (the recorder, started first)
#   worker_high@%h  -Q high_priority -c 2
#   worker_low@%h   -Q low_priority  -c 2 --max-tasks-per-child 200, in a 300 MiB memory cgroup
#   worker_daemon@%h -Q daemon -c 1, and celery beat (a heartbeat to high_priority each second)
#   a producer: 8 thumbnails/s to low_priority, payments to high_priority, housekeeping
#
# Then one demo.monthly_report task that wants 600 MiB lands on low_priority. The cgroup runs
# out of memory and the kernel's OOM killer takes worker_low's MainProcess: the demo marks it
# as the preferred victim with oom_score_adj 1000 (the same on cgroup v1, which has no
# memory.oom.group, and v2), so the whole worker goes as on the incident host; its pool children
# die with it (Celery sets PDEATHSIG=SIGKILL). Nobody consumes low_priority any more and the
# queue grows. The recorder is stopped and `celerywatch explain` says why.
#
# Output: demo-out/ (the event log, the text report, the HTML page), or $DEMO_OUT.
# Everything this script starts is stopped by its PID (never by name), and the cgroup and the
# temporary directory are removed, on success, failure and Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=$ROOT/build/celerywatch
OUT=$(realpath -m "${DEMO_OUT:-$ROOT/demo-out}")
RATE=8			# low_priority tasks a second
LIMIT_MIB=300		# worker_low's memory cgroup
SYS_PATH=/usr/bin:/bin:/usr/sbin:/sbin	# Debian's Celery runs only with /usr/bin/python3

T0=$(date +%s.%N)
say() { printf 'demo [%5.1fs] %s\n' "$(awk "BEGIN { print $(date +%s.%N) - $T0 }")" "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (BPF programs, a memory cgroup): run 'sudo make demo'" >&2
	exit 1
fi
[ -x "$BIN" ] || die "$BIN is not built (run 'make')"
for f in /usr/bin/celery /usr/bin/python3 redis-server redis-cli; do
	command -v "$f" >/dev/null || die "$f is missing (run 'sudo make deps')"
done

tmp=$(mktemp -d /tmp/cw-demo-XXXXXX)
cg=
redis_pid= rec_pid= high_pid= low_pid= daemon_pid= beat_pid= prod_pid=
ok=0

alive() { [ -n "$1" ] && [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
kids() { cat "/proc/$1/task/$1/children" 2>/dev/null || true; }
# Stop one of our own processes by PID: signal, wait up to $3 s, then SIGKILL; reap it.
stop_pid() {
	local pid=$1 sig=${2:-TERM} t=${3:-5} i
	[ -n "$pid" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < t * 10; i++)); do alive "$pid" || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
# A worker: its MainProcess and, by PID, the pool children it has now.
stop_worker() {
	local pid=$1 k
	[ -n "$pid" ] || return 0
	local children
	children=$(kids "$pid")
	stop_pid "$pid" KILL 0
	for k in $children; do kill -KILL "$k" 2>/dev/null || true; done
}
cg_pids() { [ -n "$cg" ] && cat "$cg/cgroup.procs" 2>/dev/null || true; }

cleanup() {
	local rc=$? i p
	trap - EXIT INT TERM HUP
	set +e
	cd /
	if [ "$ok" != 1 ]; then
		case $rc in
		129 | 130 | 143) say "interrupted; stopping everything the demo started" ;;
		*) say "stopping everything the demo started (exit $rc)" ;;
		esac
	fi
	stop_pid "$prod_pid" TERM 3
	stop_pid "$rec_pid" TERM 15
	stop_worker "$high_pid"
	# worker_low and its pool: by what is in our own cgroup, below
	stop_worker "$daemon_pid"
	stop_pid "$beat_pid" KILL 0
	if [ -n "$cg" ] && [ -d "$cg" ]; then
		# only what is in our own cgroup
		for ((i = 0; i < 100; i++)); do
			p=$(cg_pids)
			[ -z "$p" ] && break
			for k in $p; do kill -KILL "$k" 2>/dev/null; done
			sleep 0.1
		done
		for ((i = 0; i < 50; i++)); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
		[ -d "$cg" ] && echo "demo: could not remove cgroup $cg" >&2
	fi
	stop_pid "$redis_pid" KILL 0
	if [ "$ok" != 1 ] && [ -d "$tmp" ]; then
		mkdir -p "$OUT/failed"
		cp -f "$tmp"/*.log "$tmp"/*.jsonl "$tmp"/*.stderr "$OUT/failed/" 2>/dev/null
		echo "demo: logs of the failed run are in $OUT/failed/" >&2
	fi
	rm -rf "$tmp"
	if [ -n "${SUDO_UID:-}" ] && [ -d "$OUT" ]; then	# the output belongs to whoever ran sudo
		chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$OUT" 2>/dev/null
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

wait_for() {	# wait_for SECONDS WHAT COMMAND...: poll every 0.1 s
	local t=$1 what=$2 i
	shift 2
	for ((i = 0; i < t * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	die "timed out after ${t}s waiting for $what"
}

mkdir -p "$OUT"
# keep demo-out/ out of git without touching the repository's .gitignore
[ -e "$OUT/.gitignore" ] || echo '*' >"$OUT/.gitignore"
rm -rf "$OUT/failed"

# ---- 1. redis-server on a free loopback port
for attempt in 1 2 3; do
	port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$tmp/redis"
	setsid redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$tmp/redis" --daemonize no --loglevel warning >"$tmp/redis.log" 2>&1 &
	redis_pid=$!
	for ((i = 0; i < 50; i++)); do
		[ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
		alive "$redis_pid" || break
		sleep 0.1
	done
	[ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
	stop_pid "$redis_pid" KILL 0
	redis_pid=
done
[ -n "$redis_pid" ] || die "redis-server did not start: $(tail -3 "$tmp/redis.log")"
BROKER=redis://127.0.0.1:$port/3
say "redis-server on 127.0.0.1:$port (pid $redis_pid)"

# ---- 2. the recorder, before any worker starts
log=$tmp/demo.jsonl
setsid "$BIN" record -o "$log" --redis "$BROKER" --interval 0.5 2>"$tmp/record.stderr" &
rec_pid=$!
rec_started() {
	alive "$rec_pid" || die "celerywatch record exited: $(tail -5 "$tmp/record.stderr")"
	grep -q '"type":"tracer_start"' "$log" 2>/dev/null
}
wait_for 30 "the recorder's tracer_start" rec_started
say "celerywatch record -o $log --redis $BROKER --interval 0.5 (pid $rec_pid)"

# ---- 3. worker_low's memory cgroup
name=cw-demo-$$
if [ -e /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
	cg=/sys/fs/cgroup/memory/$name
	mkdir "$cg"
	echo $((LIMIT_MIB << 20)) >"$cg/memory.limit_in_bytes"
	# no escape into swap: the limit is the limit
	[ -e "$cg/memory.memsw.limit_in_bytes" ] && echo $((LIMIT_MIB << 20)) >"$cg/memory.memsw.limit_in_bytes"
elif grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
	cg=/sys/fs/cgroup/$name
	mkdir "$cg"
	echo $((LIMIT_MIB << 20)) >"$cg/memory.max"
	[ -e "$cg/memory.swap.max" ] && echo 0 >"$cg/memory.swap.max"
else
	die "no memory cgroup controller (neither /sys/fs/cgroup/memory nor memory in cgroup v2's subtree_control)"
fi
say "memory cgroup $cg, limit $LIMIT_MIB MiB"

# ---- 4. the workers and beat, as on the incident host
export PATH=$SYS_PATH PYTHONPATH=$ROOT/tools CELERY_BROKER_URL=$BROKER
unset PYTHONHOME
cd "$tmp"
COMMON=(--loglevel INFO --without-heartbeat --without-mingle --without-gossip)
# setsid: Ctrl-C reaches only this script, whose trap stops everything in order.
# worker_low: a subshell joins the cgroup, then execs the worker (same PID, whole tree inside).
setsid /usr/bin/celery -A demo_app worker -Q high_priority -n 'worker_high@%h' -c 2 \
	"${COMMON[@]}" >"$tmp/worker_high.log" 2>&1 &
high_pid=$!
(
	echo "$BASHPID" >"$cg/cgroup.procs"
	exec setsid /usr/bin/celery -A demo_app worker -Q low_priority -n 'worker_low@%h' -c 2 \
		--max-tasks-per-child 200 "${COMMON[@]}" >"$tmp/worker_low.log" 2>&1
) &
low_pid=$!
disown "$low_pid"	# it will die by SIGKILL: no "Killed" job notice from bash
setsid /usr/bin/celery -A demo_app worker -Q daemon -n 'worker_daemon@%h' -c 1 \
	"${COMMON[@]}" >"$tmp/worker_daemon.log" 2>&1 &
daemon_pid=$!
setsid /usr/bin/celery -A demo_app beat -s "$tmp/beat-schedule" --loglevel INFO \
	>"$tmp/beat.log" 2>&1 &
beat_pid=$!
say "starting worker_high (pid $high_pid), worker_low (pid $low_pid, in the cgroup), worker_daemon (pid $daemon_pid), beat (pid $beat_pid)"
ready() {	# ready PID LOG
	alive "$1" || die "$(basename "$2" .log) exited: $(tail -5 "$2")"
	grep -q 'ready\.' "$2"
}
for w in high low daemon; do
	pid_var=${w}_pid
	wait_for 90 "worker_$w to be ready" ready "${!pid_var}" "$tmp/worker_$w.log"
done
alive "$beat_pid" || die "celery beat exited: $(tail -5 "$tmp/beat.log")"
cg_mib() {
	local f=$cg/memory.usage_in_bytes
	[ -e "$f" ] || f=$cg/memory.current
	echo $(($(cat "$f") >> 20))
}
say "workers ready; worker_low's pool: $(kids "$low_pid" | xargs); its cgroup uses $(cg_mib) of $LIMIT_MIB MiB"

# ---- 5. steady traffic
setsid /usr/bin/python3 "$ROOT/tools/demo_app.py" produce "$RATE" >"$tmp/producer.log" 2>&1 &
prod_pid=$!
depth() { redis-cli -p "$port" -n 3 llen "$1" 2>/dev/null || echo '?'; }
sleep 8
alive "$prod_pid" || die "the producer exited: $(tail -5 "$tmp/producer.log")"
say "producer (pid $prod_pid): $RATE tasks/s to low_priority, some to high_priority and daemon; low_priority depth $(depth low_priority)"

# ---- 6. the memory-hungry task
# The OOM killer's victim in the cgroup: worker_low's MainProcess (its pool children keep 0).
alive "$low_pid" || die "worker_low exited early: $(tail -5 "$tmp/worker_low.log")"
echo 1000 >"/proc/$low_pid/oom_score_adj"
for k in $(kids "$low_pid"); do echo 0 >"/proc/$k/oom_score_adj" 2>/dev/null || true; done
kill -USR1 "$prod_pid"
say "sent demo.monthly_report (600 MiB) to low_priority; worker_low's MainProcess has oom_score_adj 1000"
low_gone() { ! alive "$low_pid"; }
wait_for 30 "worker_low's MainProcess to die" low_gone
oom_logged() { grep -q "\"type\":\"oom\".*\"pid\":$low_pid," "$log"; }
for ((i = 0; i < 50; i++)); do oom_logged && break; sleep 0.1; done
oom_logged || die "worker_low (pid $low_pid) died, but the recorder saw no OOM kill of it: $(grep "\"pid\":$low_pid," "$log" | tail -2)"
cg_empty() { [ -z "$(cg_pids)" ]; }
wait_for 10 "worker_low's pool children to die with it" cg_empty
say "the OOM killer took worker_low's MainProcess (pid $low_pid); its pool children died with it"

# ---- 7. the queue grows with nobody consuming it
for s in 4 8 12; do
	sleep 4
	say "low_priority depth $(depth low_priority) (${s}s after the kill)"
done

# ---- 8. stop the recorder, explain
stop_pid "$prod_pid" TERM 3
prod_pid=
kill -TERM "$rec_pid"
rec_gone() { ! alive "$rec_pid"; }
wait_for 15 "the recorder to stop" rec_gone
wait "$rec_pid" || die "celerywatch record exited $?: $(tail -5 "$tmp/record.stderr")"
rec_pid=
grep -q '"type":"tracer_stop"' "$log" || die "no tracer_stop line in $log"
cp -f "$log" "$OUT/demo.jsonl"
say "recorder stopped: $(wc -l <"$OUT/demo.jsonl") lines in $OUT/demo.jsonl"
echo
echo "\$ celerywatch explain --html $OUT/demo.html $OUT/demo.jsonl"
"$BIN" explain --html "$OUT/demo.html" "$OUT/demo.jsonl" >"$OUT/explain.txt" 2>"$tmp/explain.stderr" ||
	die "celerywatch explain failed: $(cat "$tmp/explain.stderr")"
cat "$OUT/explain.txt"
echo
grep -q '^low_priority: NO CONSUMER.*OOM-killed' "$OUT/explain.txt" ||
	die "explain did not report low_priority's OOM kill (see $OUT/explain.txt)"
ok=1
say "done. Event log: $OUT/demo.jsonl; report: $OUT/explain.txt; HTML: $OUT/demo.html"
