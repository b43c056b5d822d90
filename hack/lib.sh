# shellcheck shell=bash disable=SC2034  # force and regen are read by the sourcing script
# Shared by hack/*/build.sh and hack/upstream/fetch.sh (sourced, not run): flag
# parsing (--force, --regen, --help from the calling script's header comment),
# log and timed steps. Sets force and regen; messages start with the calling
# script's name.

prog=$(basename "$0")
force=false
regen=false
for arg in "$@"; do
  case $arg in
  --force) force=true ;;
  --regen) regen=true ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "$prog: unknown argument: $arg (try --help)" >&2
    exit 2
    ;;
  esac
done

log() { echo "$prog: $*" >&2; }

# step LABEL CMD...: runs CMD and prints how long it took.
step() {
  local label=$1
  shift
  log "$label ..."
  local TIMEFORMAT="$prog: $label took %0Rs (user %0Us, sys %0Ss)"
  time "$@"
}

# download DIR PACKAGE: fetches the modules PACKAGE needs, so that the timings
# separate network time from compile time.
download() { (cd "$1" && go list -deps "$2" >/dev/null); }

# build_to NAME DIR GO-BUILD-ARGS...: runs `go build` inside the module DIR,
# writing to $BIN_DIR/NAME through a temporary file next to it and a rename,
# so an interrupted build never leaves a half-written binary behind.
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
