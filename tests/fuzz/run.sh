#!/bin/sh
# Run every fuzz target in DIR for SECONDS each over a copy of its seed corpus
# (tests/fuzz/corpus/<target>/), so the tree stays clean. Fails if any target finds a crash,
# a leak or a failed assertion, and names the input that did it.
# Usage: tests/fuzz/run.sh DIR SECONDS
set -u
dir=$1
secs=$2
seeds=tests/fuzz/corpus
work=$dir/run
failed=""
for bin in "$dir"/fuzz_*; do
	[ -x "$bin" ] || continue
	case "$bin" in *.d) continue ;; esac
	t=$(basename "$bin")
	rm -rf "$work/$t"
	mkdir -p "$work/$t/corpus" "$work/$t/crashes"
	[ -d "$seeds/$t" ] && cp -r "$seeds/$t/." "$work/$t/corpus/"
	echo "== $t: ${secs} s"
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/$t/crashes/" "$work/$t/corpus" >"$work/$t/log" 2>&1; then
		grep -E '^#[0-9]+.*(DONE|pulse)' "$work/$t/log" | tail -1
		grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$work/$t/log"
	else
		tail -n 40 "$work/$t/log"
		for c in "$work/$t/crashes"/*; do
			[ -e "$c" ] && echo "$t: FOUND A CRASH: $c (reproduce: $bin $c)"
		done
		failed="$failed $t"
	fi
done
if [ -n "$failed" ]; then
	for t in $failed; do
		echo "== $t: $(grep -m1 -E '^SUMMARY|^==[0-9]+== ?ERROR' "$work/$t/log")"
		for c in "$work/$t/crashes"/*; do
			[ -e "$c" ] && echo "$t input ($(wc -c <"$c") bytes): $(head -c 256 "$c" | od -An -tx1 | tr -d ' \n')"
		done
	done
	echo "fuzzing FAILED:$failed"
	exit 1
fi
