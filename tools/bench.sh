#!/bin/bash
# Overhead benchmark: the same workloads without and with `celerywatch record` running, in
# one run, so only ratios matter (exec is slow on these VMs). Needs root.
#   exec:          fork+exec of /bin/true, untracked (every exec runs the exec hook + filter)
#   write tracked: 100-byte writes to fd 1 by a tracked process (the stderr tail copy path)
#   write other:   the same writes by an untracked process (one hash lookup per write)
# Also the recorder's RSS and the BPF maps' memory.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=./build/celerywatch
N_EXEC=${N_EXEC:-2000}
N_WRITE=${N_WRITE:-300000}
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }

tmp=$(mktemp -d /tmp/cw-bench-XXXXXX)
rec_pid=
cleanup() {
	[ -n "$rec_pid" ] && kill "$rec_pid" 2>/dev/null && wait "$rec_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); calc "$e - $s"; }
exec_loop() { for ((i = 0; i < N_EXEC; i++)); do /bin/true; done; }
write_tracked() { bash -c "exec -a celery dd if=/dev/zero bs=100 count=$N_WRITE status=none" >/dev/null; }
write_other() { dd if=/dev/zero bs=100 count="$N_WRITE" status=none >/dev/null; }

run_all() {
	echo "$(t exec_loop) $(t write_tracked) $(t write_other)"
}

# warm caches, then measure: off, on, off (the median of the two offs is the baseline)
run_all >/dev/null
read -r e0 wt0 wo0 < <(run_all)
$BIN record -o "$tmp/ev.jsonl" 2>"$tmp/stderr" &
rec_pid=$!
for _ in $(seq 50); do grep -q tracer_start "$tmp/ev.jsonl" 2>/dev/null && break; sleep 0.1; done
read -r e1 wt1 wo1 < <(run_all)
rss=$(awk '/VmRSS/ {print $2}' /proc/$rec_pid/status)
maps_kb=$(bpftool -j map show 2>/dev/null | /usr/bin/python3 -c '
import json, sys
maps = [m for m in json.load(sys.stdin) if m.get("name", "") in ("tracked", "tails", "exec_args", "events", "lost", "heap", "celerywa.rodata")]
print(sum(m.get("bytes_memlock", 0) for m in maps) // 1024)' || echo "?")
kill -INT $rec_pid; wait $rec_pid || true; rec_pid=
read -r e2 wt2 wo2 < <(run_all)

ratio() { calc "$2 / (($1 + $3) / 2)"; }
printf '%-34s %10s %10s %8s\n' workload "off (s)" "on (s)" "on/off"
printf '%-34s %10.3f %10.3f %8s\n' "exec x$N_EXEC (untracked)" "$(calc "($e0+$e2)/2")" "$e1" "$(ratio "$e0" "$e1" "$e2")"
printf '%-34s %10.3f %10.3f %8s\n' "write x$N_WRITE tracked (tail copy)" "$(calc "($wt0+$wt2)/2")" "$wt1" "$(ratio "$wt0" "$wt1" "$wt2")"
printf '%-34s %10.3f %10.3f %8s\n' "write x$N_WRITE untracked" "$(calc "($wo0+$wo2)/2")" "$wo1" "$(ratio "$wo0" "$wo1" "$wo2")"
echo "recorder RSS: ${rss} KiB; BPF maps (memlock): ${maps_kb} KiB; lines written: $(wc -l < "$tmp/ev.jsonl")"
if [ -x tools/bench_explain.sh ]; then
	tools/bench_explain.sh
fi
