#!/usr/bin/env bash
# Builds what the Argo CD end-to-end test (test/e2e) runs as local processes,
# for the Argo CD release gen pins by default (config.Default(), printed by
# `go run ./hack/argocd/pin`; GEN_ARGOCD_VERSION=3.x.y overrides it):
#
#   argocd                 the multi-call binary from github.com/argoproj/argo-cd/v3,
#                          with the symlinks argocd-application-controller and
#                          argocd-repo-server (it picks its role from its own name)
#   kustomize              sigs.k8s.io/kustomize/kustomize/v5 at the version the
#                          release pins (KUSTOMIZE_VERSION in its hack/tool-versions.sh;
#                          see install_kustomize for the one replace it needs)
#   git-verify-wrapper.sh  the release's hack/git-verify-wrapper.sh, which the
#                          repo-server of Argo CD 3.6 runs for every revision
#                          (its image has it on PATH)
#
# from the Go module proxy (no git clone, no container images), into a cache
# outside the repository:
#
#   ${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}/argocd-v<version>/src/  the source
#   ${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}/argocd-v<version>/bin/  the binaries
#
# and makes sure the Debian packages redis-server and git are installed
# (apt-get install -y when they are missing; it says so first).
#
# Usage:
#   hack/argocd/build.sh            build whatever is missing or broken
#   hack/argocd/build.sh --force    rebuild argocd and kustomize
#   hack/argocd/build.sh --regen    assemble the source folder again, then build
#
# Argo CD 3.6 needs Go 1.27: this build alone runs with GOTOOLCHAIN=go1.27.3
# (ARGOCD_GOTOOLCHAIN overrides it), which the go command fetches from the
# module proxy once; gen itself stays on the Go of its own go.mod. Figures
# (BENCHMARKS.md): a cold argocd build takes tens of minutes on 2 busy cores,
# a 230 MB binary; with the build cache warm, a rebuild is mostly the link.
# When the binaries are there and report the right version, it exits in a
# second or two (the time to compile and run the pin helper).
#
# Why a source folder rather than `go install`: argo-cd's go.mod pins
# k8s.io/* and others with replace directives, and its gitops-engine is a
# nested module (github.com/argoproj/argo-cd/gitops-engine/v3) that the
# argo-cd module zip leaves out and go.mod replaces with ./gitops-engine. Both
# only work with argo-cd as the main module: the script copies the argo-cd
# module into a writable folder, puts the gitops-engine module of the same
# version at ./gitops-engine, and builds there.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)

# shellcheck source=hack/lib.sh
source "$HERE/../lib.sh"

ARGOCD_GOTOOLCHAIN=${ARGOCD_GOTOOLCHAIN:-go1.27.3}
if [[ -n ${GEN_ARGOCD_VERSION:-} ]]; then
  ARGOCD_VERSION=v${GEN_ARGOCD_VERSION#v}
else
  # The product's own Go and module: never the Argo CD toolchain.
  pin=$(cd "$REPO_ROOT" && GOWORK=off go run ./hack/argocd/pin) || {
    log "could not read the default Argo CD pin with: go run ./hack/argocd/pin"
    exit 1
  }
  ARGOCD_VERSION=v${pin#v}
fi

CACHE_ROOT=${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}
ARGOCD_DIR=$CACHE_ROOT/argocd-$ARGOCD_VERSION
SRC_DIR=$ARGOCD_DIR/src
BIN_DIR=$ARGOCD_DIR/bin
KUSTOMIZE_SRC=$ARGOCD_DIR/kustomize-src

ARGOCD_MODULE=github.com/argoproj/argo-cd/v3
GITOPS_ENGINE_MODULE=github.com/argoproj/argo-cd/gitops-engine/v3
# The same version variable argo-cd's Makefile sets, so `argocd version` and
# the components' startup logs name the release. The flags are those of the
# first (warm-up) build of this cache, so a rerun hits the Go build cache.
ARGOCD_LDFLAGS="-s -w -X $ARGOCD_MODULE/common.version=${ARGOCD_VERSION#v}"
ARGOCD_LINKS=(argocd-application-controller argocd-repo-server)
VERIFY_WRAPPER=git-verify-wrapper.sh
APT_PACKAGES=(redis-server git)

# Standalone builds: never pick up a go.work from above, static binaries.
export GOWORK=off
export CGO_ENABLED=0

# argo_go ARGS...: the go command of the Argo CD build.
argo_go() { GOTOOLCHAIN=$ARGOCD_GOTOOLCHAIN go "$@"; }

# src_ok: true when SRC_DIR holds the argo-cd module of ARGOCD_VERSION with
# its gitops-engine in place.
src_ok() {
  [[ -f $SRC_DIR/go.mod && -f $SRC_DIR/gitops-engine/go.mod && -f $SRC_DIR/hack/$VERIFY_WRAPPER ]] || return 1
  [[ $(cat "$SRC_DIR/VERSION" 2>/dev/null) == "${ARGOCD_VERSION#v}" ]] || return 1
  grep -q "^module $ARGOCD_MODULE\$" "$SRC_DIR/go.mod" &&
    grep -q "^module $GITOPS_ENGINE_MODULE\$" "$SRC_DIR/gitops-engine/go.mod"
}

# module_dir MODULE: downloads MODULE@ARGOCD_VERSION into the module cache
# and prints its (read-only) folder there.
module_dir() {
  local dir
  dir=$(argo_go mod download -json "$1@$ARGOCD_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [[ -d $dir ]] || {
    log "go mod download $1@$ARGOCD_VERSION gave no folder: is $ARGOCD_VERSION served by the module proxy (GOPROXY=$(go env GOPROXY))?"
    return 1
  }
  echo "$dir"
}

# assemble_src builds SRC_DIR in a temporary folder and renames it into
# place, so an interrupted copy never looks complete.
assemble_src() {
  local argo engine tmp
  argo=$(module_dir "$ARGOCD_MODULE")
  engine=$(module_dir "$GITOPS_ENGINE_MODULE")
  mkdir -p "$ARGOCD_DIR"
  tmp=$(mktemp -d "$ARGOCD_DIR/.src.tmp.XXXXXX")
  # shellcheck disable=SC2064 # expand $tmp now
  trap "rm -rf '$tmp'" EXIT
  cp -R "$argo/." "$tmp/"
  rm -rf "$tmp/gitops-engine"
  cp -R "$engine" "$tmp/gitops-engine"
  # The module cache is read-only; the build writes nothing beside the
  # sources, but a later --regen must be able to delete the folder.
  chmod -R u+w "$tmp"
  rm -rf "$SRC_DIR"
  mv "$tmp" "$SRC_DIR"
  trap - EXIT
}

# kustomize_version: the kustomize release the Argo CD release pins.
kustomize_version() {
  local v
  v=$(sed -n 's/^KUSTOMIZE_VERSION=\([0-9.]*\).*$/\1/p' "$SRC_DIR/hack/tool-versions.sh")
  [[ -n $v ]] || {
    log "no KUSTOMIZE_VERSION in $SRC_DIR/hack/tool-versions.sh"
    return 1
  }
  echo "v$v"
}

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
    want=$KUSTOMIZE_VERSION
    [[ -x $BIN_DIR/kustomize ]] || return 1
    out=$("$BIN_DIR/kustomize" version 2>&1) || return 1
    ;;
  "$VERIFY_WRAPPER")
    [[ -x $BIN_DIR/$VERIFY_WRAPPER ]] && cmp -s "$SRC_DIR/hack/$VERIFY_WRAPPER" "$BIN_DIR/$VERIFY_WRAPPER"
    return
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

# download: fetches the modules the argocd binary needs, so that the timings
# separate network time from compile time.
download() { (cd "$SRC_DIR" && argo_go list -deps ./cmd >/dev/null); }

# build_argocd: `go build` in the source folder, writing to a temporary file
# next to the target and renaming it into place, so an interrupted build never
# leaves a half-written binary behind.
build_argocd() {
  local tmp pid
  tmp=$(mktemp "$BIN_DIR/.argocd.tmp.XXXXXX")
  # go build runs as a background job because bash defers traps until a
  # foreground command finishes: this way INT/TERM stop the build at once.
  (cd "$SRC_DIR" && GOTOOLCHAIN=$ARGOCD_GOTOOLCHAIN exec go build -trimpath -ldflags "$ARGOCD_LDFLAGS" -o "$tmp" ./cmd) &
  pid=$!
  # shellcheck disable=SC2064 # expand $tmp and $pid now, the traps run later
  {
    trap "rm -f '$tmp'" EXIT
    trap "kill $pid 2>/dev/null; wait $pid; rm -f '$tmp'; exit 130" INT
    trap "kill $pid 2>/dev/null; wait $pid; rm -f '$tmp'; exit 143" TERM
  }
  wait "$pid" # a failed build stops the script here (set -e); EXIT cleans up
  trap - EXIT INT TERM
  mv -f "$tmp" "$BIN_DIR/argocd"
}

# install_kustomize: kustomize built in a wrapper module in the cache
# (KUSTOMIZE_SRC), written to a temporary file and renamed into place like
# build_argocd. kustomize 5.8.3 needs Go 1.27 too, and its go.mod asks for
# k8s.io/kube-openapi v0.0.0-20261001230523-97fa35140926, which the module
# proxy does not serve ("403 Forbidden: This module version is not
# available"), so plain `go install ...@v5.8.3` fails. The wrapper replaces
# kube-openapi with the version the Argo CD release itself builds with (from
# its go.mod, so it is served); nothing else changes, and `kustomize version`
# still reports the release.
install_kustomize() {
  local openapi tmp pid
  openapi=$(awk '$1 == "k8s.io/kube-openapi" && $2 ~ /^v/ { print $2; exit }' "$SRC_DIR/go.mod")
  [[ -n $openapi ]] || {
    log "no k8s.io/kube-openapi requirement in $SRC_DIR/go.mod"
    return 1
  }
  rm -rf "$KUSTOMIZE_SRC"
  mkdir -p "$KUSTOMIZE_SRC"
  (
    cd "$KUSTOMIZE_SRC"
    argo_go mod init gen-test/kustomize >/dev/null 2>&1
    argo_go mod edit -require="sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" \
      -replace="k8s.io/kube-openapi=k8s.io/kube-openapi@$openapi" \
      -tool=sigs.k8s.io/kustomize/kustomize/v5
    argo_go mod tidy
  )
  tmp=$(mktemp "$BIN_DIR/.kustomize.tmp.XXXXXX")
  (cd "$KUSTOMIZE_SRC" && GOTOOLCHAIN=$ARGOCD_GOTOOLCHAIN exec go build -trimpath -ldflags "-s -w" -o "$tmp" sigs.k8s.io/kustomize/kustomize/v5) &
  pid=$!
  # shellcheck disable=SC2064 # expand $tmp and $pid now, the traps run later
  {
    trap "rm -f '$tmp'" EXIT
    trap "kill $pid 2>/dev/null; wait $pid; rm -f '$tmp'; exit 130" INT
    trap "kill $pid 2>/dev/null; wait $pid; rm -f '$tmp'; exit 143" TERM
  }
  wait "$pid"
  trap - EXIT INT TERM
  mv -f "$tmp" "$BIN_DIR/kustomize"
}

# install_verify_wrapper: the release's script, executable, in BIN_DIR (the
# module zip does not keep the executable bit).
install_verify_wrapper() {
  install -m 0755 "$SRC_DIR/hack/$VERIFY_WRAPPER" "$BIN_DIR/$VERIFY_WRAPPER"
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

ensure_apt_packages

log "Argo CD $ARGOCD_VERSION (the default pin) in $ARGOCD_DIR"
if $regen || ! src_ok; then
  step "assemble the argo-cd $ARGOCD_VERSION source (with gitops-engine) in $SRC_DIR" assemble_src
  src_ok || {
    log "$SRC_DIR is not the argo-cd $ARGOCD_VERSION source with its gitops-engine after assembling it"
    exit 1
  }
fi
KUSTOMIZE_VERSION=$(kustomize_version)

mkdir -p "$BIN_DIR"
# Leftovers of a build that was killed before its EXIT trap could run.
rm -rf "$BIN_DIR"/.*.tmp.* "$ARGOCD_DIR"/.src.tmp.*

todo=()
for name in argocd kustomize "$VERIFY_WRAPPER"; do
  if $force || ! version_ok "$name"; then
    todo+=("$name")
  fi
done
if ((${#todo[@]} == 0)) && links_ok; then
  log "all binaries are up to date in $BIN_DIR (use --force to rebuild)"
  exit 0
fi
((${#todo[@]} == 0)) || log "building ${todo[*]} into $BIN_DIR with $(argo_go version)"

overall_start=$SECONDS
for name in "${todo[@]}"; do
  case $name in
  argocd)
    step "download argocd modules" download
    step "build argocd" build_argocd
    ;;
  kustomize)
    step "install kustomize $KUSTOMIZE_VERSION" install_kustomize
    ;;
  "$VERIFY_WRAPPER")
    step "install $VERIFY_WRAPPER" install_verify_wrapper
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
printf '  %-30s %s\n' "$VERIFY_WRAPPER" "from $SRC_DIR/hack" >&2
for l in "${ARGOCD_LINKS[@]}"; do
  printf '  %-30s -> %s\n' "$l" "$(readlink "$BIN_DIR/$l")" >&2
done
