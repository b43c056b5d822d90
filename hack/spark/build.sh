#!/usr/bin/env bash
# Assembles the Spark that the tests run for real (the History Server, and
# spark-submit, driver and executors of the example SparkApplication): a
# SPARK_HOME laid out like /opt/spark of the apache/spark image the tree's
# Spark + S3A image builds on, in a cache outside the repository:
#
#   ${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}/spark-<version>/spark/
#     bin/       spark-submit, spark-class, load-spark-env.sh, ... (the distribution's)
#     jars/      the distribution's jars, plus the S3A jars image/Dockerfile adds
#     examples/jars/spark-examples_<scala>-<version>.jar   (see "The examples jar")
#     work-dir/  the image's WORKDIR
#     RELEASE
#
# Which Spark and which S3A jars: gen's built-in defaults, read from the
# generator (go run ./hack/spark/pins: spec.spark.version and the jar table of
# generator/image/spark), never from a list kept here.
#
# Where Spark comes from: the pyspark <version> source distribution on PyPI
# (pyspark-<version>.tar.gz), checked against the SHA-256 pinned below, which
# is the digest PyPI publishes for that file. It carries the binary
# distribution's jars/ (Spark's own jars, Hadoop's client jars 3.4.1,
# spark-kubernetes and the fabric8 client) and bin/ scripts unchanged
# (deps/jars, deps/bin). The alternative, `mvn dependency:copy` of Spark's
# artifacts from Maven Central, cannot give this Spark: Maven Central has no
# spark-kubernetes_2.13 4.0.4 (its maven-metadata.xml lists 4.0.0-4.0.2 and
# 4.1+, checked 2026-12-04), a dependency resolution is not the distribution's
# assembly (other versions where the assembly pins them), and it has no bin/.
#
# The S3A jars come from Maven Central, each checked against the SHA-1 file
# Maven Central publishes beside it, exactly as image/Dockerfile checks them.
#
# The examples jar: Spark 4.x publishes no spark-examples_2.13 to Maven
# Central (no maven-metadata.xml for it, checked 2026-12-04) and pyspark has
# none, so the jar at the example's mainApplicationFile path is gen's own
# SparkPi (hack/spark/pi, class org.apache.spark.examples.SparkPi), compiled
# here with javac against this SPARK_HOME's jars. It is a stand-in, listed
# with the fakes in test/e2e/doc.go.
#
# Usage:
#   hack/spark/build.sh            assemble it when missing or out of date
#   hack/spark/build.sh --force    assemble it again
#
# Needs curl, tar, sha1sum or shasum, and a JDK 17 (javac, jar). About 440 MB
# are downloaded (434 MB of them pyspark); assembling takes about a minute.
# When the folder is there and its stamp matches the pins, it exits at once.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
CACHE_ROOT=${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}
PYPI_URL=${GEN_PYPI_URL:-https://pypi.org}
PYPI_URL=${PYPI_URL%/}

# shellcheck source=hack/lib.sh
source "$HERE/../lib.sh"

die() {
  log "$*"
  exit 1
}

# The digest PyPI publishes for pyspark-<version>.tar.gz (the JSON API's
# urls[].digests.sha256, and the #sha256= of the simple index), per release.
declare -A PYSPARK_SHA256=(
  [4.0.4]=7e119366364d48e3cda1b1efd1ebc6cd672949500667c9cabbeef858daba700f
)

for tool in curl tar java javac jar; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed: this script needs curl, tar and a JDK 17 (Debian: apt-get install curl openjdk-17-jdk-headless)"
done
java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
[[ $java_major == 17 ]] || die "java is version ${java_major:-unknown}, not 17: Spark 4.0 runs on Java 17 (the apache/spark image's java17 variant); put a JDK 17 first on PATH"

if command -v sha1sum >/dev/null 2>&1; then
  sha1() { sha1sum "$1" | cut -d' ' -f1; }
  sha256() { sha256sum "$1" | cut -d' ' -f1; }
else
  sha1() { shasum -a 1 "$1" | cut -d' ' -f1; }
  sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
fi

JARS=()
pins=$(cd "$REPO_ROOT" && go run ./hack/spark/pins)
eval "$pins"
want_sha=${PYSPARK_SHA256[$SPARK_VERSION]:-}
[[ -n $want_sha ]] || die "no pinned SHA-256 for pyspark $SPARK_VERSION: add PyPI's digest of pyspark-$SPARK_VERSION.tar.gz to PYSPARK_SHA256 in $0"

DEST=$CACHE_ROOT/spark-$SPARK_VERSION
HOME_DIR=$DEST/spark
# The stamp records what the folder was assembled from; another pin, another
# pyspark digest or another Pi source assembles it again.
stamp="$pins
PYSPARK_SHA256=$want_sha
PI_SOURCE=$(sha256 "$HERE/pi/org/apache/spark/examples/SparkPi.java")"

if ! $force && [[ -f $DEST/stamp && $(cat "$DEST/stamp") == "$stamp" && -x $HOME_DIR/bin/spark-submit ]]; then
  log "Spark $SPARK_VERSION is up to date in $HOME_DIR (use --force to assemble it again)"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
work=$(mktemp -d "$CACHE_ROOT/.spark-$SPARK_VERSION.tmp.XXXXXX")
# shellcheck disable=SC2064 # expand $work now, the trap runs later
trap "rm -rf '$work'" EXIT

# pyspark's tarball is kept beside the folder, so --force does not download
# it again when its digest still matches.
tarball=$CACHE_ROOT/downloads/pyspark-$SPARK_VERSION.tar.gz
fetch_pyspark() {
  mkdir -p "$(dirname "$tarball")"
  if [[ -f $tarball && $(sha256 "$tarball") == "$want_sha" ]]; then
    log "pyspark-$SPARK_VERSION.tar.gz is already downloaded and matches"
    return
  fi
  local url
  # The simple index (PEP 503) names the file's URL with its digest.
  url=$(curl -fsS "$PYPI_URL/simple/pyspark/" | grep -o "https://[^\"#]*/pyspark-$SPARK_VERSION\.tar\.gz" | head -1) ||
    die "PyPI ($PYPI_URL/simple/pyspark/) lists no pyspark-$SPARK_VERSION.tar.gz"
  curl -fsS -o "$tarball.part" "$url"
  local got
  got=$(sha256 "$tarball.part")
  if [[ $got != "$want_sha" ]]; then
    rm -f "$tarball.part"
    die "pyspark-$SPARK_VERSION.tar.gz from $url has SHA-256 $got, want $want_sha (the digest PyPI publishes)"
  fi
  mv -f "$tarball.part" "$tarball"
}

unpack() {
  tar -xzf "$tarball" -C "$work" "pyspark-$SPARK_VERSION/deps/jars" "pyspark-$SPARK_VERSION/deps/bin"
  mkdir -p "$work/spark/examples/jars" "$work/spark/work-dir"
  mv "$work/pyspark-$SPARK_VERSION/deps/jars" "$work/spark/jars"
  mv "$work/pyspark-$SPARK_VERSION/deps/bin" "$work/spark/bin"
  rm -rf "$work/pyspark-$SPARK_VERSION"
  # The Windows scripts are of no use in a Linux image.
  rm -f "$work"/spark/bin/*.cmd
  chmod 0755 "$work"/spark/bin/*
  # The image's Spark is the release's; a pyspark whose jars are another
  # release would make every test a test of the wrong Spark.
  [[ -f $work/spark/jars/spark-core_$SCALA-$SPARK_VERSION.jar ]] ||
    die "pyspark-$SPARK_VERSION carries no spark-core_$SCALA-$SPARK_VERSION.jar"
  [[ -f $work/spark/jars/hadoop-client-api-$HADOOP.jar ]] ||
    die "pyspark-$SPARK_VERSION carries no hadoop-client-api-$HADOOP.jar: the jar table's Hadoop ($HADOOP) is not this Spark's"
  echo "Spark $SPARK_VERSION (jars and bin/ of pyspark-$SPARK_VERSION.tar.gz from PyPI, assembled by gen's hack/spark/build.sh)" >"$work/spark/RELEASE"
}

fetch_jars() {
  local entry name url sha1url want got
  for entry in "${JARS[@]}"; do
    read -r name url sha1url <<<"$entry"
    curl -fsS -o "$work/spark/jars/$name" "$url" || die "download $url failed"
    want=$(curl -fsS "$sha1url" | cut -c1-40) || die "download $sha1url failed"
    got=$(sha1 "$work/spark/jars/$name")
    [[ $got == "$want" ]] || die "$name from $url has SHA-1 $got, want $want (Maven Central's $sha1url)"
    log "  $name: SHA-1 $got matches Maven Central's"
  done
}

build_pi() {
  local classes=$work/pi-classes
  mkdir -p "$classes"
  javac -nowarn --release 17 -d "$classes" -cp "$work/spark/jars/*" \
    "$HERE/pi/org/apache/spark/examples/SparkPi.java"
  jar --create --file "$work/spark$EXAMPLES_JAR" -C "$classes" .
  rm -rf "$classes"
}
# EXAMPLES_JAR is the path inside the image (/opt/spark/...); inside this
# folder it is relative to spark/.
EXAMPLES_JAR=${EXAMPLES_JAR#/opt/spark}

overall_start=$SECONDS
step "download pyspark $SPARK_VERSION from PyPI" fetch_pyspark
step "unpack jars/ and bin/" unpack
step "download and check the S3A jars" fetch_jars
step "compile gen's SparkPi" build_pi
printf '%s\n' "$stamp" >"$work/stamp"
# Replace the old folder in two renames: a reader sees the old one or the new
# one, never half of one.
if [[ -d $DEST ]]; then
  mv "$DEST" "$work.old"
fi
mv "$work" "$DEST"
rm -rf "$work.old"
trap - EXIT
log "done in $((SECONDS - overall_start))s: $HOME_DIR ($(du -sh "$HOME_DIR" | cut -f1), $(ls "$HOME_DIR/jars" | wc -l) jars)"
