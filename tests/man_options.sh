#!/bin/sh
# Every long option a subcommand's --help shows must be in the man page.
# Usage: tests/man_options.sh [BIN [MANPAGE]]
#   BIN     the celerywatch binary (default $BIN, else build/celerywatch)
#   MANPAGE the page to check (default $MANPAGE, else docs/man/celerywatch.8)
# Options are taken from the option lines of `BIN SUB --help` ("  -o, --output=PATH",
# "      --btf=FILE"); the page is searched with roff's \- and font escapes undone.
# Exits 0 when every option is there, 1 when one is missing, 2 when it cannot check.
set -u

BIN=${1:-${BIN:-build/celerywatch}}
MANPAGE=${2:-${MANPAGE:-docs/man/celerywatch.8}}
SUBCOMMANDS="record explain status watch"

if [ ! -x "$BIN" ]; then
	echo "man_options: $BIN is not an executable (build it, or pass BIN)" >&2
	exit 2
fi
if [ ! -r "$MANPAGE" ]; then
	echo "man_options: cannot read $MANPAGE" >&2
	exit 2
fi

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# The page as plain text for matching: \- becomes -, \fB \fI \fR \fP \f(XX \& \% go.
sed -e 's/\\-/-/g' -e 's/\\f([A-Z][A-Z]//g' -e 's/\\f[BIRP]//g' -e 's/\\[&%]//g' \
	"$MANPAGE" >"$tmp/page"

checked=0
missing=0
for sub in $SUBCOMMANDS; do
	if ! "$BIN" "$sub" --help >"$tmp/help.$sub" 2>&1; then
		echo "man_options: '$BIN $sub --help' failed" >&2
		exit 2
	fi
	# option lines only: leading blanks, an optional "-x, ", then --name
	opts=$(sed -n -E 's/^[[:space:]]+(-[^[:space:]], )?(--[A-Za-z0-9][A-Za-z0-9-]*).*/\2/p' \
		"$tmp/help.$sub" | sort -u)
	if [ -z "$opts" ]; then
		echo "man_options: no options found in '$BIN $sub --help'" >&2
		exit 2
	fi
	for opt in $opts; do
		checked=$((checked + 1))
		# the whole name: --redis must not be satisfied by --redis-rescan alone
		if ! grep -Eq -- "(^|[^A-Za-z0-9-])$opt([^A-Za-z0-9-]|\$)" "$tmp/page"; then
			echo "man_options: $sub $opt is shown by --help but missing from $MANPAGE"
			missing=$((missing + 1))
		fi
	done
done

if [ "$missing" -ne 0 ]; then
	echo "man_options: FAILED, $missing of $checked options missing"
	exit 1
fi
echo "man_options: ok, $checked options of $SUBCOMMANDS all in $MANPAGE"
