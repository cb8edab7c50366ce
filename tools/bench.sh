#!/bin/bash
# `make bench`: what each tracer costs the host, side by side (tools/bench/run.py: workloads,
# tracers, interleaving, bpf_stats), then explain's speed (tools/bench_explain.sh). Root.
# Arguments go to run.py: --reps N, --scale F, --quick (CI: default celerywatch only),
# --no-stats, --no-latency, --variant LABEL BINARY OPTS (another build to compare).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
mkdir -p build/bench
${CC:-cc} -O2 -Wall -Wextra -Werror tools/bench/loop.c -o build/bench/loop
${CC:-cc} -O2 -static -Wall -Wextra -Werror tools/bench/stub.c -o build/bench/stub
/usr/bin/python3 tools/bench/run.py "$@"
case " $* " in
*" --quick "*) ;;
*) [ -x tools/bench_explain.sh ] && tools/bench_explain.sh ;;
esac
