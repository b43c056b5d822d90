#!/usr/bin/env bash
# Builds what the Argo CD end-to-end test (test/e2e) runs as local processes:
#
#   argocd         the multi-call binary from github.com/argoproj/argo-cd/v3 v3.2.11,
#                  with the symlinks argocd-application-controller and
#                  argocd-repo-server (it picks its role from its own name)
#   kustomize      sigs.k8s.io/kustomize/kustomize/v5 v5.7.0, the version Argo CD
#                  v3.2.11's repo-server is tested with
#
# from the Go module proxy (no git clone, no container images), into a cache
# outside the repository:
#
#   ${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}/argocd-v3.2.11/bin/
#
# and makes sure the Debian packages redis-server and git are installed
# (apt-get install -y when they are missing; it says so first).
#
# Usage:
#   hack/argocd/build.sh            build whatever is missing or broken
#   hack/argocd/build.sh --force    rebuild argocd and kustomize
#   hack/argocd/build.sh --regen    regenerate the wrapper go.mod/go.sum
#                                   (after a version bump), then build
#
# A cold build took 4 minutes on a 2-core machine (argocd 223 s, kustomize
# 21 s; up to ~7.5 minutes for argocd on a busy one), after ~30 s of module
# downloads; it needs ~1.7 GB of module cache and ~2.2 GB of build cache, and
# the binary is ~150 MB. When the binaries are there and report the right
# version, it exits in a fraction of a second.
#
# Why a wrapper module: argo-cd's go.mod pins k8s.io/* and a few others with
# replace directives, which only apply when argo-cd is the main module; without
# them the dependency graph does not resolve. This directory is a nested module
# (so the main module ignores it) that requires argo-cd, copies its replace
# list, and names its cmd package as a tool so `go mod tidy` keeps every
# dependency of the binary.
set -euo pipefail

ARGOCD_VERSION=v3.2.11
KUSTOMIZE_VERSION=v5.7.0

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}
BIN_DIR=$CACHE_ROOT/argocd-$ARGOCD_VERSION/bin

ARGOCD_PKG=github.com/argoproj/argo-cd/v3/cmd
# The same version variables argo-cd's Makefile sets, so `argocd version` and
# the components' startup logs name the release.
ARGOCD_LDFLAGS="-s -w -X github.com/argoproj/argo-cd/v3/common.version=${ARGOCD_VERSION#v}"
ARGOCD_LINKS=(argocd-application-controller argocd-repo-server)
APT_PACKAGES=(redis-server git)

# The wrapper is standalone: never pick up a go.work from above, and build
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
  argocd)
    want="argocd: $ARGOCD_VERSION+"
    [[ -x $BIN_DIR/argocd ]] || return 1
    # HOME points at an empty place: the CLI must not read or write any
    # user config just to print its version.
    out=$(HOME=$BIN_DIR "$BIN_DIR/argocd" version --client --short 2>&1) || return 1
    ;;
  kustomize)
    want="$KUSTOMIZE_VERSION"
    [[ -x $BIN_DIR/kustomize ]] || return 1
    out=$("$BIN_DIR/kustomize" version 2>&1) || return 1
    ;;
  esac
  [[ $out == *"$want"* ]]
}

# links_ok: true when every role symlink points at the multi-call binary.
links_ok() {
  local l
  for l in "${ARGOCD_LINKS[@]}"; do
    [[ -L $BIN_DIR/$l && $(readlink "$BIN_DIR/$l") == argocd ]] || return 1
  done
}

# download DIR PACKAGE: fetches the modules PACKAGE needs, so that the timings
# separate network time from compile time.
download() { (cd "$1" && go list -deps "$2" >/dev/null); }

# build_to NAME DIR GO-BUILD-ARGS...: runs `go build` inside the wrapper module
# DIR, writing to a temporary file next to the target and renaming it into
# place, so an interrupted build never leaves a half-written binary behind.
build_to() {
  local name=$1 dir=$2
  shift 2
  local tmp pid
  tmp=$(mktemp "$BIN_DIR/.$name.tmp.XXXXXX")
  # go build runs as a background job because bash defers traps until a
  # foreground command finishes: this way INT/TERM stop the build at once.
  (cd "$dir" && exec go build -trimpath -o "$tmp" "$@") &
  pid=$!
  # shellcheck disable=SC2064 # expand $tmp and $pid now, the traps run later
  {
    trap "rm -f '$tmp'" EXIT
    trap "kill $pid 2>/dev/null; wait $pid; rm -f '$tmp'; exit 130" INT
    trap "kill $pid 2>/dev/null; wait $pid; rm -f '$tmp'; exit 143" TERM
  }
  wait "$pid" # a failed build stops the script here (set -e); EXIT cleans up
  trap - EXIT INT TERM
  mv -f "$tmp" "$BIN_DIR/$name"
}

# install_kustomize: `go install` into a temporary GOBIN, then rename into
# place, for the same reason as build_to. `go install pkg@version` resolves
# kustomize's own go.mod, outside any module.
install_kustomize() {
  local tmpdir
  tmpdir=$(mktemp -d "$BIN_DIR/.kustomize.tmp.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$tmpdir'" EXIT
  (cd "$tmpdir" && GOBIN=$tmpdir go install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION")
  mv -f "$tmpdir/kustomize" "$BIN_DIR/kustomize"
  rm -rf "$tmpdir"
  trap - EXIT
}

# regen_argocd rewrites go.mod and go.sum from scratch.
regen_argocd() {
  local gomod
  rm -f "$HERE/go.mod" "$HERE/go.sum"
  (
    cd "$HERE"
    go mod init github.com/rdspark/gen/hack/argocd
    go mod edit -require="github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION"
    # argo-cd's own go.mod, as published on the proxy.
    gomod=$(go mod download -json "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION" |
      sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
    [[ -f $gomod ]] || {
      log "could not find go.mod of github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION"
      exit 1
    }
    # Same language version as argo-cd itself.
    go mod edit -go="$(awk '$1 == "go" { print $2; exit }' "$gomod")"
    # Copy every replace directive, in block or single-line form.
    local reps n=0
    reps=$(awk '
      /^replace[[:space:]]*\($/ { inblock = 1; next }
      inblock && /^\)/ { inblock = 0; next }
      inblock && /=>/ { print; next }
      /^replace[[:space:]].*=>/ { sub(/^replace[[:space:]]+/, ""); print }
    ' "$gomod" | sed 's://.*$::' | awk '
      # "old [version] => new [version]" -> "old[@version]=new[@version]"
      {
        for (i = 1; $i != "=>"; i++) {}
        l = $1; if (i == 3) l = l "@" $2
        r = $(i + 1); if (NF == i + 2) r = r "@" $(i + 2)
        print l "=" r
      }')
    for r in $reps; do
      go mod edit -replace="$r"
      n=$((n + 1))
    done
    log "copied $n replace directives from argo-cd's go.mod"
    go mod edit -tool="$ARGOCD_PKG"
    go mod tidy
  )
}

# ensure_apt_packages installs the Debian packages the test runs when their
# command is missing (each package here is named after its command).
ensure_apt_packages() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    command -v "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    log "found ${APT_PACKAGES[*]} on PATH"
    return
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing ${missing[*]} and no apt-get to install them with: install them with your package manager"
    exit 1
  fi
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  log "installing missing Debian packages: ${missing[*]} (apt-get update; apt-get install -y)"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

if $regen; then
  step "regenerate go.mod" regen_argocd
fi

ensure_apt_packages

mkdir -p "$BIN_DIR"
# Leftovers of a build that was killed before its EXIT trap could run.
rm -rf "$BIN_DIR"/.*.tmp.*

todo=()
for name in argocd kustomize; do
  if $force || ! version_ok "$name"; then
    todo+=("$name")
  fi
done
if ((${#todo[@]} == 0)) && links_ok; then
  log "all binaries are up to date in $BIN_DIR (use --force to rebuild)"
  exit 0
fi
((${#todo[@]} == 0)) || log "building ${todo[*]} into $BIN_DIR with $(go version)"

overall_start=$SECONDS
for name in "${todo[@]}"; do
  case $name in
  argocd)
    step "download argocd modules" download "$HERE" "$ARGOCD_PKG"
    step "build argocd" build_to argocd "$HERE" -ldflags "$ARGOCD_LDFLAGS" "$ARGOCD_PKG"
    ;;
  kustomize)
    step "install kustomize" install_kustomize
    ;;
  esac
  if ! version_ok "$name"; then
    log "$BIN_DIR/$name was built but does not report the expected version"
    exit 1
  fi
done
for l in "${ARGOCD_LINKS[@]}"; do
  ln -sfn argocd "$BIN_DIR/$l"
done
log "done in $((SECONDS - overall_start))s:"
printf '  %-30s %s\n' argocd "$(HOME=$BIN_DIR "$BIN_DIR/argocd" version --client --short 2>&1 | head -n1)" >&2
printf '  %-30s %s\n' kustomize "$("$BIN_DIR/kustomize" version 2>&1 | head -n1)" >&2
for l in "${ARGOCD_LINKS[@]}"; do
  printf '  %-30s -> %s\n' "$l" "$(readlink "$BIN_DIR/$l")" >&2
done
