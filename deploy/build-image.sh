#!/usr/bin/env bash
# Stages the sandbox server (Node.js, the built site, the server's and the exercises' files, production
# dependencies) and builds its image into the local registry with the cluster's image script. Prints the image.
#
#   deploy/build-image.sh        (root: buildah needs it, as for the cluster's other images)
set -euo pipefail
shopt -s inherit_errexit

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SIDECAR_LAB_CACHE:-$HOME/.cache/sidecar-lab}"
STAGE="$CACHE/server-app"
LOG="$CACHE/deploy-build.log"
say() { printf '[deploy] %s\n' "$*" >&2; }
fail() {
  say "error: $1; last lines of $LOG:"
  tail -n 20 "$LOG" >&2
  exit 1
}

cd "$ROOT"
mkdir -p "$CACHE"
: >"$LOG"
say "building the site (log: $LOG)"
npm run build >>"$LOG" 2>&1 || fail "the site did not build"

# Production dependencies are installed once per lock file, then copied.
lock=$(sha256sum package-lock.json | cut -c1-16)
deps="$CACHE/server-deps/$lock"
if [[ ! -d $deps/node_modules ]]; then
  say "installing production dependencies"
  rm -rf "$CACHE/server-deps" && mkdir -p "$deps.partial"
  cp package.json package-lock.json "$deps.partial/"
  (cd "$deps.partial" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund) >>"$LOG" 2>&1 ||
    fail "npm ci --omit=dev failed"
  mv "$deps.partial" "$deps"
fi

rm -rf "$STAGE" && mkdir -p "$STAGE/dist"
cp package.json package-lock.json "$STAGE/"
cp -a "$deps/node_modules" "$STAGE/node_modules"
cp -a dist/site "$STAGE/dist/site"
# The server's and the exercises' sources (Node runs the .ts files as they are), without their tests.
find sandbox-server/src exercises -type f ! -name '*.test.ts' -print0 | tar --null -cf - -T - | tar -C "$STAGE" -xf -
install -m 0755 "$(node -p process.execPath)" "$STAGE/node"

tag=$(bash "$ROOT/sandbox-server/cluster/local/images.sh" --server "$STAGE")
printf 'docker.io/sidecar-lab/server:%s\n' "$tag"
