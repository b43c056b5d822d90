#!/usr/bin/env bash
# Builds the Kubeflow Spark Operator binary that the operator tests
# (test/integration, TestSparkOperatorReal*) run as local processes:
#
#   spark-operator   v2.5.2, `go build ./cmd/operator` of the release's source
#
# into a cache outside the repository:
#
#   ${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}/spark-operator-v2.5.2/bin/
#
# The source is the unmodified release in the shared upstream folder
# (../shared/upstream/spark-operator/v2.5.2/src beside the repository, or
# $GEN_UPSTREAM_DIR/spark-operator/v2.5.2/src; see internal/upstreamtest).
# Where that folder is absent (a user's clone), the same release comes from
# the Go module proxy as module github.com/kubeflow/spark-operator/v2@v2.5.2,
# checked against the pinned go.sum hash below (measured 2026-11-29: its
# go.mod, go.sum, VERSION, api/, cmd/, internal/ and pkg/ are identical to the
# upstream folder's). Either way it must not enter the repository, so the
# build runs in a copy in a temporary folder, deleted afterwards. Its module
# dependencies come from the Go module proxy.
#
# Usage:
#   hack/sparkoperator/build.sh            build it when missing or broken
#   hack/sparkoperator/build.sh --force    rebuild it
#
# A cold build (empty Go build cache) took 10 minutes on 2 cores busy with
# other builds (170 s of CPU time), a rebuild with a warm build cache 7 s; the
# binary is 55 MB. See BENCHMARKS.md. When the binary is there and reports
# the right version, it exits in a fraction of a second.
#
# Why `go build` in a copy rather than `go install ...@v2.5.2`: the
# operator's go.mod pins the Kubernetes libraries with replace directives,
# which apply only when it is the main module (`go install pkg@version`
# refuses a module that has them); and the upstream folder, the project's
# copy of the release its CRDs also come from, builds without the proxy
# serving the release.
set -euo pipefail

VERSION=v2.5.2
MODULE=github.com/kubeflow/spark-operator/v2
# go.sum hash of $MODULE@$VERSION (sum.golang.org), for the fallback.
MODULE_SUM="h1:6nX2UhwSfnYi1mtwczgFfJTMeLSL/1ajTvkFe8R7Vdc="
# The tag's commit (upstream README), stamped like upstream's Makefile does so
# that `spark-operator version` names the release it was built from.
COMMIT=cd6bd1ca50e3

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
UPSTREAM_DIR=${GEN_UPSTREAM_DIR:-$(cd "$REPO_ROOT/.." && pwd)/shared/upstream}
SRC=$UPSTREAM_DIR/spark-operator/$VERSION/src
CACHE_ROOT=${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}
BIN_DIR=$CACHE_ROOT/spark-operator-$VERSION/bin

LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=$VERSION -X k8s.io/component-base/version.gitCommit=$COMMIT -X k8s.io/component-base/version.gitTreeState=clean"

# The source is its own main module: never pick up a go.work from above, build
# a static binary, and let Go 1.26 build the go 1.24.10 module as it is
# (GOTOOLCHAIN=local: no toolchain download).
export GOWORK=off
export CGO_ENABLED=0
export GOTOOLCHAIN=local

# shellcheck source=hack/lib.sh
source "$HERE/../lib.sh"

# version_ok: true when the binary exists, runs, and reports the version we
# expect (so a version bump forces a rebuild).
version_ok() {
  local out
  [[ -x $BIN_DIR/spark-operator ]] || return 1
  out=$("$BIN_DIR/spark-operator" version --short 2>&1) || return 1
  [[ $out == *"Git Version: $VERSION"* ]]
}

mkdir -p "$BIN_DIR"
# Leftovers of a build that was killed before its EXIT trap could run.
rm -rf "$BIN_DIR"/.*.tmp.*

if ! $force && version_ok; then
  log "spark-operator $VERSION is up to date in $BIN_DIR (use --force to rebuild)"
  exit 0
fi
# module_source: the release's module from the Go module proxy, when the
# upstream folder does not have it. `go mod download` verifies the zip against
# the checksum database; the pinned hash makes a changed release fail here.
module_source() {
  local json sum dir
  json=$(go mod download -json "$MODULE@$VERSION")
  sum=$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  if [[ $sum != "$MODULE_SUM" ]]; then
    log "$MODULE@$VERSION from the module proxy has hash $sum, want $MODULE_SUM"
    exit 1
  fi
  SRC=$dir
}

if [[ ! -f $SRC/go.mod || $(cat "$SRC/VERSION" 2>/dev/null) != "$VERSION" ]]; then
  log "no Spark Operator $VERSION source in $SRC; taking $MODULE@$VERSION from the Go module proxy"
  step "download $MODULE@$VERSION" module_source
fi
log "building spark-operator $VERSION from $SRC into $BIN_DIR with $(go version)"

# work holds the writable copy of the source and the half-written binary; it
# is next to the target so the final rename stays on one file system.
work=$(mktemp -d "$BIN_DIR/.build.tmp.XXXXXX")
# shellcheck disable=SC2064 # expand $work now, the trap runs later
trap "chmod -R u+w '$work' 2>/dev/null; rm -rf '$work'" EXIT

copy_source() {
  cp -R "$SRC/." "$work/src"
  # The upstream folder is read-only; the copy must not be.
  chmod -R u+w "$work/src"
}

download() { (cd "$work/src" && go mod download); }

build() {
  local pid
  # go build runs as a background job because bash defers traps until a
  # foreground command finishes: this way INT/TERM stop the build at once.
  (cd "$work/src" && exec go build -trimpath -ldflags "$LDFLAGS" -o "$work/spark-operator" ./cmd/operator) &
  pid=$!
  # shellcheck disable=SC2064
  {
    trap "kill $pid 2>/dev/null; wait $pid; exit 130" INT
    trap "kill $pid 2>/dev/null; wait $pid; exit 143" TERM
  }
  wait "$pid" # a failed build stops the script here (set -e); EXIT cleans up
  trap - INT TERM
}

overall_start=$SECONDS
step "copy the source" copy_source
step "download modules" download
step "build spark-operator" build
mv -f "$work/spark-operator" "$BIN_DIR/spark-operator"
if ! version_ok; then
  log "$BIN_DIR/spark-operator was built but does not report $VERSION:"
  "$BIN_DIR/spark-operator" version >&2 || true
  exit 1
fi
log "done in $((SECONDS - overall_start))s:"
"$BIN_DIR/spark-operator" version --short 2>&1 | sed 's/^/  /' >&2
