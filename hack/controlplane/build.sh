#!/usr/bin/env bash
# Builds the control-plane binaries used by internal/testcluster:
#
#   kube-apiserver, kube-controller-manager,
#   kube-scheduler                            from k8s.io/kubernetes v1.35.4
#   etcd                                      from go.etcd.io/etcd/server/v3 v3.6.16
#
# from the Go module proxy (no git clone, no container images), into a cache
# outside the repository:
#
#   ${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}/k8s-v1.35.4/bin/
#
# Usage:
#   hack/controlplane/build.sh            build whatever is missing or broken
#   hack/controlplane/build.sh --force    rebuild all three binaries
#   hack/controlplane/build.sh --regen    regenerate the wrapper go.mod/go.sum
#                                         files (after a version bump), then build
#
# A cold build took 7 minutes on an idle 2-core machine (kube-apiserver 4 min,
# kube-controller-manager 2, etcd 1; up to ~25 minutes on a busy one) and
# needs ~1.5 GB of module cache and ~4 GB of build cache. When the binaries are
# there and report the right version, it exits in a fraction of a second.
#
# Why wrapper modules: k8s.io/kubernetes cannot be `go install`ed directly,
# because its go.mod requires the staging modules (k8s.io/api, k8s.io/client-go,
# ...) at the placeholder version v0.0.0 and maps them to ./staging with replace
# directives, which only apply when kubernetes is the main module. The wrapper in
# ./kubernetes requires k8s.io/kubernetes and replaces every such k8s.io/<m>
# v0.0.0 with the published k8s.io/<m> v0.35.4. etcd's root module has the same
# problem, so ./etcd holds a three-line main package around etcdmain.Main.
# Both wrappers are nested modules, so the main module ignores them.
set -euo pipefail

K8S_VERSION=v1.35.4
K8S_STAGING_VERSION=v0.35.4 # k8s.io/<staging module> version matching K8S_VERSION
ETCD_VERSION=v3.6.16

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}
BIN_DIR=$CACHE_ROOT/k8s-$K8S_VERSION/bin

KUBE_CMDS=(kube-apiserver kube-controller-manager kube-scheduler)
KUBE_LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"

# The wrappers are standalone: never pick up a go.work from above, and build
# static binaries so they run on any Linux host.
export GOWORK=off
export CGO_ENABLED=0

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# version_ok NAME: true when $BIN_DIR/NAME exists, runs, and reports the
# version we expect (so a version bump forces a rebuild).
version_ok() {
  local name=$1 want out
  case $name in
  etcd) want="etcd Version: ${ETCD_VERSION#v}" ;;
  *) want="Kubernetes $K8S_VERSION" ;;
  esac
  [[ -x $BIN_DIR/$name ]] || return 1
  out=$("$BIN_DIR/$name" --version 2>&1) || return 1
  [[ $out == *"$want"* ]]
}

# regen_kubernetes rewrites kubernetes/go.mod and go.sum from scratch.
regen_kubernetes() {
  local dir=$HERE/kubernetes gomod
  rm -f "$dir/go.mod" "$dir/go.sum"
  (
    cd "$dir"
    go mod init github.com/rdspark/gen/hack/controlplane/kubernetes
    # Same language version and GODEBUG defaults as kubernetes' own go.mod.
    go mod edit -go=1.25.0 -godebug=default=go1.25
    go mod edit -require="k8s.io/kubernetes@$K8S_VERSION"
    # kubernetes' own go.mod, as published on the proxy.
    gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
      sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
    [[ -f $gomod ]] || {
      log "could not find go.mod of k8s.io/kubernetes@$K8S_VERSION"
      exit 1
    }
    # Every `k8s.io/<m> v0.0.0` requirement is a staging module; pin it to the
    # published release of the same Kubernetes version.
    local mods n=0
    mods=$(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print $1 }' "$gomod" | sort -u)
    for m in $mods; do
      go mod edit -replace="$m=$m@$K8S_STAGING_VERSION"
      n=$((n + 1))
    done
    log "replaced $n k8s.io staging modules with $K8S_STAGING_VERSION"
    for c in "${KUBE_CMDS[@]}"; do
      go mod edit -tool="k8s.io/kubernetes/cmd/$c"
    done
    go mod tidy
  )
}

# regen_etcd rewrites etcd/go.mod and go.sum from scratch (main.go is kept).
regen_etcd() {
  local dir=$HERE/etcd
  rm -f "$dir/go.mod" "$dir/go.sum"
  (
    cd "$dir"
    go mod init github.com/rdspark/gen/hack/controlplane/etcd
    # The oldest Go that etcd server v3.6.16 itself accepts.
    go mod edit -go=1.26.0
    go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    go mod tidy
  )
}

if $regen; then
  step "regenerate kubernetes/go.mod" regen_kubernetes
  step "regenerate etcd/go.mod" regen_etcd
fi

mkdir -p "$BIN_DIR"
# Leftovers of a build that was killed before its EXIT trap could run.
rm -f "$BIN_DIR"/.*.tmp.*

todo=()
for name in "${KUBE_CMDS[@]}" etcd; do
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
  case $name in
  etcd)
    step "download etcd modules" download "$HERE/etcd" .
    step "build etcd" build_to etcd "$HERE/etcd" -ldflags "-s -w" .
    ;;
  *)
    step "download $name modules" download "$HERE/kubernetes" "k8s.io/kubernetes/cmd/$name"
    step "build $name" build_to "$name" "$HERE/kubernetes" -ldflags "$KUBE_LDFLAGS" "k8s.io/kubernetes/cmd/$name"
    ;;
  esac
  if ! version_ok "$name"; then
    log "$BIN_DIR/$name was built but does not report the expected version:"
    "$BIN_DIR/$name" --version >&2 || true
    exit 1
  fi
done
log "done in $((SECONDS - overall_start))s:"
for name in "${KUBE_CMDS[@]}" etcd; do
  printf '  %-26s %s\n' "$name" "$("$BIN_DIR/$name" --version 2>&1 | head -n1)" >&2
done
