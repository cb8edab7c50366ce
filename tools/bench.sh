#!/bin/bash
# Overhead benchmark: the same workloads with the recorder off, on, and on with
# --no-stderr-tail, in one run, so only ratios matter (exec is slow on these VMs). Root.
#   exec:          fork+exec of /bin/true, untracked (every exec runs the exec hook + filter)
#   write tracked: 100-byte writes to fd 1 by a tracked process (the stderr tail copy path)
#   write other:   the same writes by an untracked process (one hash lookup per write)
# Then the recorder's RSS, the BPF maps' memory, and explain on a 1M-line log.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=./build/celerywatch
N_EXEC=${N_EXEC:-2000}
N_WRITE=${N_WRITE:-300000}
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }

tmp=$(mktemp -d /tmp/cw-bench-XXXXXX)
rec_pid=
cleanup() {
	if [ -n "$rec_pid" ]; then kill "$rec_pid" 2>/dev/null || true; wait "$rec_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); calc "$e - $s"; }
exec_loop() { for ((i = 0; i < N_EXEC; i++)); do /bin/true; done; }
write_tracked() { bash -c "exec -a celery dd if=/dev/zero bs=100 count=$N_WRITE status=none" >/dev/null; }
write_other() { dd if=/dev/zero bs=100 count="$N_WRITE" status=none >/dev/null; }
run_all() { echo "$(t exec_loop) $(t write_tracked) $(t write_other)"; }

start_rec() {
	rm -f "$tmp/ev.jsonl"
	$BIN record -o "$tmp/ev.jsonl" "$@" 2>"$tmp/stderr" &
	rec_pid=$!
	for _ in $(seq 100); do grep -q tracer_start "$tmp/ev.jsonl" 2>/dev/null && break; sleep 0.1; done
}
stop_rec() { kill -INT "$rec_pid"; wait "$rec_pid" || true; rec_pid=; }

run_all >/dev/null	# warm caches
read -r e0 wt0 wo0 < <(run_all)
start_rec
read -r e1 wt1 wo1 < <(run_all)
rss=$(awk '/VmRSS/ {print $2}' /proc/$rec_pid/status)
maps_kb=$(bpftool -j map show 2>/dev/null | /usr/bin/python3 -c '
import json, sys
names = {"tracked", "tails", "exec_args", "events", "lost", "heap"}
print(sum(m.get("bytes_memlock", 0) for m in json.load(sys.stdin) if m.get("name") in names) // 1024)' || echo "?")
stop_rec
start_rec --no-stderr-tail
read -r e2 wt2 wo2 < <(run_all)
stop_rec
read -r e3 wt3 wo3 < <(run_all)

row() {	# name off1 on notail off2
	local base; base=$(calc "($2 + $5) / 2")
	printf '%-36s %8.3f %8.3f %6s %8.3f %6s\n' "$1" "$base" "$3" "$(calc "$3 / $base")" "$4" "$(calc "$4 / $base")"
}
printf '%-36s %8s %8s %6s %8s %6s\n' workload "off s" "on s" "ratio" "notail" "ratio"
row "exec x$N_EXEC (untracked)" "$e0" "$e1" "$e2" "$e3"
row "write x$N_WRITE to fd 1, tracked" "$wt0" "$wt1" "$wt2" "$wt3"
row "write x$N_WRITE to fd 1, untracked" "$wo0" "$wo1" "$wo2" "$wo3"
echo "recorder RSS: ${rss} KiB; BPF maps (memlock): ${maps_kb} KiB"
if [ -x tools/bench_explain.sh ]; then
	tools/bench_explain.sh
fi
