#!/usr/bin/env bash
# Gets the pinned upstream release files the tests serve on loopback (Argo CD's
# install.yaml of the default pin and of the older pin, the Spark Operator's
# CRDs, their LICENSEs, the Spark Operator's source) and checks each against the
# SHA-256 recorded in hack/upstream/SHA256SUMS. Nothing is ever copied into
# the repository. The tests (internal/upstreamtest.Dir) look in the same
# places, in the same order:
#
#   1. $GEN_UPSTREAM_DIR, when set
#   2. ../shared/upstream beside the repository root, when it exists (this
#      project's machines and CI, which have no network)
#   3. ${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}/upstream,
#      which this script fills from the pinned URLs
#
# With 1 or 2 it downloads nothing and verifies that folder instead. The files
# come from (GEN_UPSTREAM_BASE_URL overrides the base, for a mirror or a test):
#
#   https://raw.githubusercontent.com/argoproj/argo-cd/v<version>/manifests/install.yaml
#   https://raw.githubusercontent.com/argoproj/argo-cd/v<version>/LICENSE
#   https://raw.githubusercontent.com/kubeflow/spark-operator/v<version>/config/crd/bases/<file>
#   https://raw.githubusercontent.com/kubeflow/spark-operator/v<version>/LICENSE
#   https://raw.githubusercontent.com/apache/spark-docker/master/<version>/scala2.13-java17-ubuntu/{entrypoint.sh,Dockerfile}
#
# and the Spark Operator source (spark-operator/v<version>/src) from the Go
# module proxy, github.com/kubeflow/spark-operator/v2@v<version>, whose go.mod
# and go.sum are checked against SHA256SUMS as well.
#
# Usage:
#   hack/upstream/fetch.sh            fetch what is missing or wrong, verify all
#   hack/upstream/fetch.sh --force    download every file again
#   hack/upstream/fetch.sh --regen    rewrite the sums in SHA256SUMS from the files
#                                     of folder 1 or 2 (after a version bump: edit
#                                     the paths first, then review the diff)
#
# A checksum mismatch fails, naming the file and both sums. About 4 MB are
# downloaded (plus the Spark Operator's module zip); when everything is there
# and verified it takes well under a second.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SUMS=$HERE/SHA256SUMS
CACHE_ROOT=${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}
BASE_URL=${GEN_UPSTREAM_BASE_URL:-https://raw.githubusercontent.com}
BASE_URL=${BASE_URL%/}
SPARK_MODULE=github.com/kubeflow/spark-operator/v2
# What the tests and the operator build need of the module's source.
SPARK_SRC=(go.mod go.sum api cmd internal pkg charts/spark-operator-chart Dockerfile VERSION LICENSE)

# shellcheck source=hack/lib.sh
source "$HERE/../lib.sh"

die() {
  log "$*"
  exit 1
}

if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
  die "neither sha256sum nor shasum is installed"
fi

# Where the files are: a local folder to verify, or the cache to fill.
local_dir=
if [[ -n ${GEN_UPSTREAM_DIR:-} ]]; then
  local_dir=$GEN_UPSTREAM_DIR
  [[ -d $local_dir ]] || die "GEN_UPSTREAM_DIR=$local_dir is not a folder"
elif [[ -d $ROOT/../shared/upstream ]]; then
  local_dir=$(cd "$ROOT/../shared/upstream" && pwd)
fi

# paths and sums of SHA256SUMS, in order.
paths=()
sums=()
while read -r sum path; do
  [[ -z $sum || $sum == \#* ]] && continue
  paths+=("$path")
  sums+=("$sum")
done <"$SUMS"
((${#paths[@]} > 0)) || die "$SUMS lists no files"

if $regen; then
  [[ -n $local_dir ]] || die "--regen reads a local folder: set GEN_UPSTREAM_DIR"
  tmp=$(mktemp "$SUMS.XXXXXX")
  # Comments and blank lines stay; each listed path gets its file's sum.
  while IFS= read -r line; do
    if [[ -z $line || $line == \#* ]]; then
      printf '%s\n' "$line" >>"$tmp"
      continue
    fi
    path=${line#*  }
    [[ -f $local_dir/$path ]] || { rm -f "$tmp"; die "--regen: $local_dir/$path is missing"; }
    printf '%s  %s\n' "$(sha256 "$local_dir/$path")" "$path" >>"$tmp"
  done <"$SUMS"
  mv -f "$tmp" "$SUMS"
  log "rewrote $SUMS from $local_dir; review the diff"
  exit 0
fi

# url_of PATH: the pinned upstream URL of a file of the upstream folder.
url_of() {
  local path=$1 project version file
  IFS=/ read -r project version file <<<"$path"
  case $project/$file in
  argo-cd/install.yaml) echo "$BASE_URL/argoproj/argo-cd/$version/manifests/install.yaml" ;;
  argo-cd/LICENSE) echo "$BASE_URL/argoproj/argo-cd/$version/LICENSE" ;;
  spark-operator/LICENSE) echo "$BASE_URL/kubeflow/spark-operator/$version/LICENSE" ;;
  spark-operator/*.yaml) echo "$BASE_URL/kubeflow/spark-operator/$version/config/crd/bases/$file" ;;
  # apache/spark-docker tags no releases: its release folders are fixed once
  # published, and the SHA-256 of SHA256SUMS pins the content.
  spark-docker/*) echo "$BASE_URL/apache/spark-docker/master/$version/scala2.13-java17-ubuntu/$file" ;;
  *) return 1 ;;
  esac
}

# verify FILE PATH WANT: true when FILE has the sum SHA256SUMS records for PATH;
# otherwise says so, naming the file and both sums.
verify() {
  local file=$1 path=$2 want=$3 got
  got=$(sha256 "$file")
  [[ $got == "$want" ]] && return 0
  log "CHECKSUM MISMATCH: $file ($path) has sha256 $got, but hack/upstream/SHA256SUMS records $want${4:+ (downloaded from $4)}"
  return 1
}

offline_hint="without network, point GEN_UPSTREAM_DIR at a copy of the upstream folder (its layout is the paths in hack/upstream/SHA256SUMS), or GEN_UPSTREAM_BASE_URL at a mirror"

# download URL DEST: fetches URL into DEST (a temporary name), one clear line
# when it cannot.
download() {
  local url=$1 dest=$2 err
  if ! err=$(curl -fsSL --connect-timeout 10 --max-time 300 --retry 2 -o "$dest" "$url" 2>&1); then
    rm -f "$dest"
    die "cannot download $url (offline? ${err##*$'\n'}); $offline_hint"
  fi
}

# fetch_src DIR VERSION: the Spark Operator source of VERSION into DIR/src,
# from the Go module proxy (the module zip is itself checked against
# sum.golang.org by the go command).
fetch_src() {
  local dir=$1 version=$2 json moddir tmp f
  if ! json=$(cd "$CACHE_ROOT" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$SPARK_MODULE@$version" 2>&1); then
    die "cannot download the Go module $SPARK_MODULE@$version from $(go env GOPROXY) (offline? ${json##*$'\n'}); $offline_hint"
  fi
  moddir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  [[ -d $moddir ]] || die "go mod download $SPARK_MODULE@$version reported no folder: $json"
  mkdir -p "$dir"
  tmp=$(mktemp -d "$dir/.src.tmp.XXXXXX")
  for f in "${SPARK_SRC[@]}"; do
    mkdir -p "$tmp/$(dirname "$f")"
    cp -R "$moddir/$f" "$tmp/$f"
  done
  chmod -R u+w "$tmp" # the module cache is read-only; builds may write beside the sources
  rm -rf "$dir/src"
  mv "$tmp" "$dir/src"
}

if [[ -n $local_dir ]]; then
  failed=0
  for i in "${!paths[@]}"; do
    if [[ ! -f $local_dir/${paths[i]} ]]; then
      log "missing: $local_dir/${paths[i]}"
      failed=1
    elif ! verify "$local_dir/${paths[i]}" "${paths[i]}" "${sums[i]}"; then
      failed=1
    fi
  done
  ((failed == 0)) || die "the upstream folder $local_dir does not hold the pinned files; fix or remove it (unset GEN_UPSTREAM_DIR) to download them"
  log "${#paths[@]} upstream files verified in $local_dir (not downloaded: a local folder is used)"
  exit 0
fi

DEST=$CACHE_ROOT/upstream
mkdir -p "$DEST"
rm -rf "$DEST"/*/*/.src.tmp.* "$DEST"/*/*/.*.tmp.* 2>/dev/null || true # leftovers of a killed run
fetched=0
failed=0
for i in "${!paths[@]}"; do
  path=${paths[i]}
  want=${sums[i]}
  if [[ $path == spark-operator/*/src/* ]]; then
    IFS=/ read -r _ version _ <<<"$path"
    if $force || [[ ! -f $DEST/$path ]] || [[ $(sha256 "$DEST/$path") != "$want" ]]; then
      # One download for every src/ entry of this version.
      if [[ ${src_done:-} != *" $version "* ]]; then
        step "source of $SPARK_MODULE@$version" fetch_src "$DEST/spark-operator/$version" "$version"
        src_done="${src_done:- } $version "
        fetched=$((fetched + 1))
      fi
    fi
    verify "$DEST/$path" "$path" "$want" "$SPARK_MODULE@$version" || failed=1
    continue
  fi
  if ! $force && [[ -f $DEST/$path ]] && [[ $(sha256 "$DEST/$path") == "$want" ]]; then
    continue
  fi
  url=$(url_of "$path") || die "hack/upstream/SHA256SUMS: no upstream URL known for $path"
  mkdir -p "$(dirname "$DEST/$path")"
  tmp=$(mktemp "$(dirname "$DEST/$path")/.$(basename "$path").tmp.XXXXXX")
  download "$url" "$tmp"
  if verify "$tmp" "$path" "$want" "$url"; then
    mv -f "$tmp" "$DEST/$path"
    fetched=$((fetched + 1))
  else
    rm -f "$tmp" "$DEST/$path"
    failed=1
  fi
done
((failed == 0)) || die "upstream files failed verification (see above); nothing unverified was kept in $DEST"
log "${#paths[@]} upstream files verified in $DEST ($fetched downloaded)"
