#!/bin/sh
# `make install` into a scratch prefix, then: every file in place with its mode, the unit as
# installed passes `systemd-analyze verify` (its ExecStart and man page must exist: they do,
# under the scratch prefix), `systemd-analyze security` rates it, and `make uninstall`
# leaves no file behind.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d /tmp/cw-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "service-check: $*" >&2; exit 1; }

vars="PREFIX=$tmp/usr SYSCONFDIR=$tmp/etc"
# shellcheck disable=SC2086
make -s install $vars >/dev/null
unit=$tmp/usr/lib/systemd/system/celerywatch.service
for f in "0755 $tmp/usr/sbin/celerywatch" "0644 $tmp/usr/share/man/man8/celerywatch.8" \
	 "0644 $unit" "0640 $tmp/etc/default/celerywatch" "0644 $tmp/etc/logrotate.d/celerywatch" \
	 "0644 $tmp/usr/share/doc/celerywatch/celerywatch.default" \
	 "0644 $tmp/usr/share/celerywatch/prometheus/celerywatch.rules.yml" \
	 "0644 $tmp/usr/share/celerywatch/grafana/celerywatch.json"; do
	set -- $f
	[ -f "$2" ] || fail "not installed: $2"
	[ "$(stat -c %a "$2")" = "${1#0}" ] || fail "$2 has mode $(stat -c %a "$2"), wanted $1"
done
grep -q "^ExecStart=$tmp/usr/sbin/celerywatch record" "$unit" || fail "ExecStart does not follow PREFIX"

if ! command -v systemd-analyze >/dev/null; then
	echo "service-check: SKIP verify: systemd-analyze is not installed"
else
	out=$(MANPATH=$tmp/usr/share/man systemd-analyze verify "$unit" 2>&1) || fail "verify failed: $out"
	[ -z "$out" ] || fail "verify is not clean: $out"
	echo "service-check: systemd-analyze verify: clean"
	systemd-analyze security --offline=true "$unit" 2>/dev/null | tail -1 | \
		sed 's/^/service-check: systemd-analyze security: /'
fi

# a second install keeps an edited /etc/default/celerywatch
echo 'CELERYWATCH_OPTS="--redis redis://10.0.0.5:6379/3"' > "$tmp/etc/default/celerywatch"
# shellcheck disable=SC2086
make -s install $vars >/dev/null
grep -q 10.0.0.5 "$tmp/etc/default/celerywatch" || fail "install overwrote an edited /etc/default/celerywatch"
# shellcheck disable=SC2086
make -s uninstall $vars >/dev/null
left=$(find "$tmp" -type f ! -path "$tmp/etc/default/celerywatch")
[ -z "$left" ] || fail "uninstall left: $left"
[ -f "$tmp/etc/default/celerywatch" ] || fail "uninstall removed an edited /etc/default/celerywatch"
echo "service-check: install/uninstall: OK"

# packaging: DESTDIR puts the same files under a staging root, paths inside them unchanged
dest=$tmp/dest
make -s install DESTDIR="$dest" PREFIX=/usr/local >/dev/null
for f in /usr/local/sbin/celerywatch /usr/local/share/man/man8/celerywatch.8 \
	 /usr/local/lib/systemd/system/celerywatch.service /etc/default/celerywatch \
	 /etc/logrotate.d/celerywatch /usr/local/share/celerywatch/prometheus/celerywatch.rules.yml; do
	[ -f "$dest$f" ] || fail "DESTDIR install lacks $f"
done
grep -q '^ExecStart=/usr/local/sbin/celerywatch record' "$dest/usr/local/lib/systemd/system/celerywatch.service" ||
	fail "DESTDIR leaked into ExecStart"
err=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$dest/usr/local/share/man/man8/celerywatch.8" 2>&1 >/dev/null) ||
	fail "the installed man page does not render: $err"
[ -z "$err" ] || fail "the installed man page renders with warnings: $err"
echo "service-check: DESTDIR install, installed man page clean: OK"
