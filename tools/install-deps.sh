#!/bin/sh
# Install every build, test and demo dependency from Debian's packages.
# Idempotent: only what is missing is installed, so `sudo make test` works as a first command.
set -eu

PKGS="clang llvm make gcc g++ pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev \
libhiredis-dev redis-server redis-tools python3-celery python3-redis python3-setproctitle celery \
libcmocka-dev libjson-c-dev libsimdjson-dev libsystemd-dev libcap-dev libmicrohttpd-dev prometheus chromium python3 libclang-rt-14-dev man-db groff-base tmux \
libbpf-tools bpftrace"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done

if [ -z "$missing" ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages:$missing; run as root (sudo make deps)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends $missing
