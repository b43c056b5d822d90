#!/usr/bin/env bash
# Builds the object stores' own programs that test/objectstore runs as local
# processes, driven by the rendered Deployments and bucket Jobs:
#
#   minio   the MinIO server   github.com/minio/minio     v0.0.0-20260212201848-7aac2a2c5b7c
#   mc      the MinIO client   github.com/minio/mc        v0.0.0-20250313080218-cf909e1063a9
#   weed    SeaweedFS          github.com/seaweedfs/seaweedfs v0.0.0-20261109003541-7506e5f91cd6
#   docker-entrypoint.sh       the MinIO image's entrypoint, dockerscripts/ of
#                              the same minio module (the image runs it, and
#                              it runs minio; the test does the same)
#
# from the Go module proxy (no git clone, no container images), into a cache
# outside the repository:
#
#   ${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}/objectstore/bin/
#
# Usage:
#   hack/objectstore/build.sh            build whatever is missing or broken
#   hack/objectstore/build.sh --force    rebuild all three binaries
#
# Why these versions, and how they differ from the images the tree runs
# (generator/config/defaults.go):
#
#   minio  The image is quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z, commit
#          07c3a429bfed (2025-09-07). Its commit is not served by the module
#          proxy: MinIO publishes no semver tags, so only pseudo-versions of
#          commits exist there, and the newest served is 7aac2a2c5b7c
#          (2026-02-12), 25 commits after the release tag, on the same branch.
#          Those 25 are bug fixes (conditional-put read quorum, POST policy
#          tags and trailing slashes, LDAP StartTLS, decommission pool ids,
#          duplicate responses), README/doc edits, and go.mod bumps of
#          tinylib/msgp 1.2.5 -> 1.4.0, philhofer/fwd -> 1.2.0 and the toolchain
#          line 1.24.2 -> 1.24.8; no change to the flags, environment
#          variables or health endpoints the tree uses.
#   mc     The MinIO image ships its own mc; the module proxy serves mc only
#          as pseudo-versions, the newest being cf909e1063a9 (2025-03-13),
#          about six months older than the server image. The bucket Job uses
#          only `mc alias set`, `mb --ignore-existing`, `stat` and `pipe`,
#          which that mc has.
#   weed   The image is docker.io/chrislusf/seaweedfs:4.47. SeaweedFS tags its
#          releases "4.47" (not semver), so the proxy refuses @4.47 ("not
#          available") and serves one pseudo-version: 7506e5f91cd6
#          (2026-11-09), which calls itself 4.53 (weed/util/version), six
#          releases newer than the image. Built without build tags, like the
#          image's default variant (not the "large_disk" one).
#
# Each is built inside its own downloaded module (the module cache copy), as
# the main module: its own go.mod and go.sum then apply, including
# seaweedfs' replace directive, which `go install pkg@version` refuses.
# -ldflags -X writes the commit into each binary, so `--version` names it and
# the version check below can tell a stale binary from a current one.
#
# Measured (BENCHMARKS.md): a cold build (empty build cache) took 26.5 minutes
# on two cores busy with other builds (minio 552 s, mc 72 s, weed 896 s; 11
# minutes of CPU) and 2.8 GB of build cache; binaries of 112, 31 and 164 MB.
# --force with a warm build cache: 14 s. When the binaries are there and
# report the right commits it exits in under a second.
set -euo pipefail

MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MC_MODULE=github.com/minio/mc
MC_VERSION=v0.0.0-20250313080218-cf909e1063a9
WEED_MODULE=github.com/seaweedfs/seaweedfs
WEED_VERSION=v0.0.0-20261109003541-7506e5f91cd6

CACHE_ROOT=${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}
BIN_DIR=$CACHE_ROOT/objectstore/bin

# Builds are standalone: never pick up a go.work from above, never let a
# GOFLAGS=-mod=mod rewrite a module's go.mod, and build static binaries so they
# run on any Linux host.
export GOWORK=off
export GOFLAGS=-mod=readonly
export CGO_ENABLED=0

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# commit VERSION: the 12-digit commit of a pseudo-version.
commit() { echo "${1##*-}"; }

# module_of NAME / version_of NAME / package_of NAME / ldflags_of NAME
module_of() {
  case $1 in
  minio) echo $MINIO_MODULE ;; mc) echo $MC_MODULE ;; weed) echo $WEED_MODULE ;;
  esac
}
version_of() {
  case $1 in
  minio) echo $MINIO_VERSION ;; mc) echo $MC_VERSION ;; weed) echo $WEED_VERSION ;;
  esac
}
package_of() {
  case $1 in
  minio | mc) echo . ;; weed) echo ./weed ;;
  esac
}

# ENTRYPOINT is the MinIO image's entrypoint script, copied (not built) from
# the minio module; unchanged between the image's release and the commit.
ENTRYPOINT=docker-entrypoint.sh
ldflags_of() {
  local c
  c=$(commit "$(version_of "$1")")
  case $1 in
  minio | mc) echo "-s -w -X $(module_of "$1")/cmd.CommitID=$c" ;;
  weed) echo "-s -w -X $WEED_MODULE/weed/util/version.COMMIT=$c" ;;
  esac
}

# version_ok NAME: true when $BIN_DIR/NAME exists, runs, and reports the
# commit we expect (so a version bump forces a rebuild).
version_ok() {
  local name=$1 out c
  c=$(commit "$(version_of "$name")")
  if [[ $name == "$ENTRYPOINT" ]]; then
    cmp -s "$BIN_DIR/$name" "$(module_dir minio)/dockerscripts/$name"
    return
  fi
  [[ -x $BIN_DIR/$name ]] || return 1
  case $name in
  # HOME points at an empty place: the CLIs must not read or write a user's
  # config just to print their version.
  minio | mc) out=$(HOME=$BIN_DIR "$BIN_DIR/$name" --version 2>&1) || return 1 ;;
  weed) out=$("$BIN_DIR/$name" version 2>&1) || return 1 ;;
  esac
  c=$(commit "$(version_of "$name")")
  [[ $out == *"$c"* ]]
}

# module_dir NAME: downloads the module NAME is built from (a no-op when it
# is in the module cache) and prints its folder.
module_dir() {
  local dir
  dir=$(go mod download -json "$(module_of "$1")@$(version_of "$1")" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [[ -d $dir ]] || {
    log "could not download $(module_of "$1")@$(version_of "$1")"
    return 1
  }
  echo "$dir"
}

# install_entrypoint copies MinIO's entrypoint script into place, atomically.
install_entrypoint() {
  local tmp
  tmp=$(mktemp "$BIN_DIR/.$ENTRYPOINT.tmp.XXXXXX")
  cp "$(module_dir minio)/dockerscripts/$ENTRYPOINT" "$tmp"
  chmod 0755 "$tmp"
  mv -f "$tmp" "$BIN_DIR/$ENTRYPOINT"
}

NAMES=(minio mc weed "$ENTRYPOINT")

mkdir -p "$BIN_DIR"
# Leftovers of a build that was killed before its EXIT trap could run.
rm -f "$BIN_DIR"/.*.tmp.*

todo=()
for name in "${NAMES[@]}"; do
  if $force || ! version_ok "$name"; then
    todo+=("$name")
  fi
done
if ((${#todo[@]} == 0)); then
  log "all binaries are up to date in $BIN_DIR (use --force to rebuild)"
  exit 0
fi
log "building ${todo[*]} into $BIN_DIR with $(go version)"

overall_start=$SECONDS
for name in "${todo[@]}"; do
  if [[ $name == "$ENTRYPOINT" ]]; then
    install_entrypoint
    version_ok "$name"
    continue
  fi
  dir=$(module_dir "$name")
  step "download $name modules" download "$dir" "$(package_of "$name")"
  step "build $name" build_to "$name" "$dir" -ldflags "$(ldflags_of "$name")" "$(package_of "$name")"
  if ! version_ok "$name"; then
    log "$BIN_DIR/$name was built but does not report commit $(commit "$(version_of "$name")"):"
    "$BIN_DIR/$name" --version >&2 || true
    exit 1
  fi
done
log "done in $((SECONDS - overall_start))s:"
for name in "${NAMES[@]}"; do
  case $name in
  "$ENTRYPOINT") v="copied from $MINIO_MODULE@$MINIO_VERSION" ;;
  weed) v=$("$BIN_DIR/$name" version 2>&1 | head -n1) ;;
  *) v=$(HOME=$BIN_DIR "$BIN_DIR/$name" --version 2>&1 | head -n1) ;;
  esac
  printf '  %-6s %s\n' "$name" "$v" >&2
done
