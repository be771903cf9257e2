#!/usr/bin/env bash
# progress.sh WHAT CMD...: runs a `go build -v`/`go install -v`/`go vet`
# style command and, instead of minutes of silence while it compiles, prints
# a line every 25 packages (and every 25 module downloads) with the time so
# far. Lines that are not bare package paths (errors, warnings) pass through
# as they come. Exits with the command's status.
set -uo pipefail
what=$1
shift
start=$SECONDS
pkgs=0
dls=0
"$@" 2>&1 | while IFS= read -r line; do
	case "$line" in
	"go: downloading "*)
		dls=$((dls + 1))
		if ((dls % 25 == 1)); then
			echo "    $what: downloading modules ($dls so far, $((SECONDS - start)) s)"
		fi
		;;
	*" "* | "#"*)
		echo "$line"
		;;
	*)
		pkgs=$((pkgs + 1))
		if ((pkgs % 25 == 0)); then
			echo "    $what: compiled $pkgs packages ($((SECONDS - start)) s, last $line)"
		fi
		;;
	esac
done
status=${PIPESTATUS[0]}
if ((status == 0)); then
	echo "    $what: done in $((SECONDS - start)) s"
fi
exit "$status"
