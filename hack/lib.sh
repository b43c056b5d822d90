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
