#!/usr/bin/env bash
# Installs (and caches) the real storage servers the bridge backend tests run
# against: MinIO and fake-gcs-server built from the Go module proxy, Azurite
# from npm (scripts/azurite/package-lock.json pins its whole tree), and
# Debian's chromium for the browser tests.
# Versions: scripts/test-servers.versions. Idempotent: anything already in
# the cache is left alone. On a cold cache expect ~10 min for MinIO, ~3-5 min
# for fake-gcs-server and ~1 min for Azurite on 2 shared cores.
#
#   scripts/test-servers.sh install   install all three (prints what it did)
#   scripts/test-servers.sh paths     print KEY=path for each server binary
#   scripts/test-servers.sh check     exit 1 unless all three are installed
#
# Cache: $FLASHBACK_CACHE (default ~/.cache/flashback):
#   bin/minio-<version>, bin/fake-gcs-server-<version>,
#   azurite-<version>/node_modules/.bin/azurite-blob
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=test-servers.versions
source "$here/test-servers.versions"

cache="${FLASHBACK_CACHE:-$HOME/.cache/flashback}"
bindir="$cache/bin"
minio_bin="$bindir/minio-$MINIO_VERSION"
gcs_bin="$bindir/fake-gcs-server-$FAKE_GCS_VERSION"
azurite_dir="$cache/azurite-$AZURITE_VERSION"
azurite_bin="$azurite_dir/node_modules/.bin/azurite-blob"

export PATH="/usr/local/go/bin:$PATH"

log() { printf 'test-servers: %s\n' "$*" >&2; }

# go_install NAME MODULE VERSION DEST: builds MODULE@VERSION into DEST
# atomically (temporary GOBIN, then rename), skipping if DEST exists.
go_install() {
	local name="$1" module="$2" version="$3" dest="$4"
	if [[ -x "$dest" ]]; then
		log "$name $version: cached at $dest"
		return
	fi
	mkdir -p "$bindir"
	local tmp start
	rm -rf "$bindir"/.build-"$name".* # left by an interrupted build
	tmp="$(mktemp -d "$bindir/.build-$name.XXXXXX")"
	start=$(date +%s)
	log "$name $version: building $module@$version (this can take minutes)..."
	if ! GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local \
		go install -trimpath -ldflags '-s -w' "$module@$version"; then
		rm -rf "$tmp"
		log "$name: build FAILED"
		return 1
	fi
	mv -f "$tmp/$(basename "$module")" "$dest"
	rm -rf "$tmp"
	log "$name $version: built in $(($(date +%s) - start))s -> $dest"
}

install_azurite() {
	if [[ -x "$azurite_bin" ]]; then
		log "azurite $AZURITE_VERSION: cached at $azurite_dir"
		return
	fi
	if ! command -v npm >/dev/null; then
		log "azurite: npm not found (needs Node >= 20; apt-get install nodejs npm)"
		return 1
	fi
	if ! grep -q "\"azurite\": \"$AZURITE_VERSION\"" "$here/azurite/package.json"; then
		log "azurite: scripts/azurite/package.json does not pin $AZURITE_VERSION"
		return 1
	fi
	mkdir -p "$cache"
	rm -rf "$cache"/.build-azurite.*
	local tmp start
	tmp="$(mktemp -d "$cache/.build-azurite.XXXXXX")"
	start=$(date +%s)
	log "azurite $AZURITE_VERSION: npm ci (lockfile scripts/azurite/package-lock.json)..."
	cp "$here/azurite/package.json" "$here/azurite/package-lock.json" "$tmp/"
	if ! (cd "$tmp" && npm ci --no-audit --no-fund --loglevel=error >&2); then
		rm -rf "$tmp"
		log "azurite: npm ci FAILED"
		return 1
	fi
	chmod 755 "$tmp"
	rm -rf "$azurite_dir"
	mv "$tmp" "$azurite_dir"
	log "azurite $AZURITE_VERSION: installed in $(($(date +%s) - start))s -> $azurite_dir"
}

# Headless Chromium (Debian's package) for the tests that drive a real
# browser (chromedp). Installed with apt-get when missing and we are root.
install_chromium() {
	if command -v chromium >/dev/null; then
		log "chromium: $(command -v chromium)"
		return
	fi
	if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
		log "chromium: not installed (as root: apt-get install chromium)"
		return 1
	fi
	local start
	start=$(date +%s)
	log "chromium: apt-get install chromium..."
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2
	log "chromium: installed in $(($(date +%s) - start))s"
}

paths() {
	echo "MINIO_BIN=$minio_bin"
	echo "FAKE_GCS_BIN=$gcs_bin"
	echo "AZURITE_BLOB_BIN=$azurite_bin"
}

case "${1:-}" in
install)
	mkdir -p "$cache"
	# One install at a time per cache (concurrent CI runs wait, then find
	# everything cached).
	exec 9>"$cache/.install.lock"
	flock 9
	go_install minio github.com/minio/minio "$MINIO_VERSION" "$minio_bin"
	go_install fake-gcs-server github.com/fsouza/fake-gcs-server "$FAKE_GCS_VERSION" "$gcs_bin"
	install_azurite
	install_chromium
	paths
	;;
paths)
	paths
	;;
check)
	ok=0
	for f in "$minio_bin" "$gcs_bin" "$azurite_bin"; do
		if [[ ! -x "$f" ]]; then
			log "missing: $f"
			ok=1
		fi
	done
	command -v chromium >/dev/null || { log "missing: chromium"; ok=1; }
	exit $ok
	;;
*)
	echo "usage: $0 install|paths|check" >&2
	exit 2
	;;
esac
