#!/bin/sh
# The shipped monitoring: the alerting rules load and pass their promtool unit tests, and
# every query of the Grafana dashboard parses as PromQL (template variables replaced).
set -eu
cd "$(dirname "$0")/.."
if ! command -v promtool >/dev/null; then
	echo "monitoring-check: SKIP: promtool (Debian package prometheus) is not installed"
	exit 0
fi
tmp=$(mktemp -d /tmp/cw-monitor.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

promtool check rules tools/prometheus/celerywatch.rules.yml
(cd tools/prometheus && promtool test rules celerywatch.rules.test.yml)

# each dashboard query as a recording rule: promtool parses it
/usr/bin/python3 - tools/grafana/celerywatch.json > "$tmp/dash.rules.yml" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("groups:\n  - name: dashboard\n    rules:")
n = 0
for p in d["panels"]:
    for t in p.get("targets", []):
        e = (t["expr"].replace("$__rate_interval", "5m").replace("$instance", ".*")
             .replace("$queue", ".*"))
        n += 1
        print(f"      - record: dashboard:q{n}\n        expr: {json.dumps(e)}")
if n < 10:
    sys.exit(f"monitoring-check: only {n} queries in the dashboard")
PY
promtool check rules "$tmp/dash.rules.yml" | sed 's/^/dashboard: /'
echo "monitoring-check: OK"
