// Package spark is the table of the Spark release lines gen supports. For each
// line it records the facts the Spark + S3A image is rendered from: the Scala
// and Java of the official apache/spark image used as the base, the Hadoop the
// Spark distribution ships, and the S3A jars that match that Hadoop exactly.
//
// hadoop-aws must be the very Hadoop release on Spark's classpath, and the AWS
// SDK must be the one that Hadoop release was built against: "Do not attempt
// to drop in a newer version of the AWS SDK than that which the Hadoop version
// was built with" (hadoop-aws troubleshooting guide). A mismatch shows up as a
// NoSuchMethodError or NoClassDefFoundError inside a task, not at build time,
// so the pairs are facts written down here, never computed.
//
// The package is a leaf (standard library only) so that the config can
// validate spec.spark.version against it and the image package can render
// from it.
package spark

import (
	"fmt"
	"regexp"
	"strings"
)

// UID is the non-root user (spark, uid 185, gid 185) of the apache/spark
// images; the image and every Spark pod run as it.
const UID = 185

// MavenCentral is where the S3A jars are downloaded from at image build time,
// next to the SHA-1 files Maven Central publishes for every artifact.
const MavenCentral = "https://repo1.maven.org/maven2"

// BaseRepository is the official Spark image published by the Apache Spark
// project (github.com/apache/spark-docker), multi-platform (amd64, arm64).
const BaseRepository = "docker.io/apache/spark"

// Jar is one Maven Central artifact the image adds to /opt/spark/jars.
type Jar struct {
	Group    string
	Artifact string
	Version  string
}

// FileName is the jar's name in Maven Central and in /opt/spark/jars.
func (j Jar) FileName() string { return j.Artifact + "-" + j.Version + ".jar" }

// URL is the jar on Maven Central.
func (j Jar) URL() string {
	return MavenCentral + "/" + strings.ReplaceAll(j.Group, ".", "/") + "/" + j.Artifact + "/" + j.Version + "/" + j.FileName()
}

// SHA1URL is the checksum Maven Central publishes beside the jar (every
// artifact there has one; SHA-256 files exist only for recent uploads).
func (j Jar) SHA1URL() string { return j.URL() + ".sha1" }

// Line is a Spark release line ("4.0"). Spark keeps its Hadoop within a line
// (dependency upgrades land in minor releases), so every patch release of a
// line shares the line's facts; make image-test checks that on the built image.
type Line struct {
	// Line is major.minor.
	Line string
	// Scala and Java pick the apache/spark image variant
	// (<version>-scala<Scala>-java<Java>-ubuntu).
	Scala string
	Java  string
	// Hadoop is the version of the hadoop-client-api/-runtime jars in the
	// Spark distribution (spark-parent pom hadoop.version).
	Hadoop string
	// Jars are hadoop-aws of that Hadoop and the AWS SDK bundle it was built
	// against (hadoop-project pom aws-java-sdk.version / aws-java-sdk-v2.version).
	Jars []Jar
	// CredentialsProvider is the class S3A reads the AWS_* environment
	// variables with: a class of the line's AWS SDK major version.
	CredentialsProvider string
}

// lines is the table. Sources, for the reviewer of a change here:
//   - Spark 4.0.x ships Hadoop 3.4.1 (SPARK-49550); Hadoop 3.4 moved S3A to the
//     AWS SDK v2 shaded "bundle" artifact (HADOOP-18073), and hadoop-project
//     3.4.1 sets aws-java-sdk-v2.version 2.24.6 (HADOOP-19082, the same
//     version Spark 4.0 pins in SPARK-47695). hadoop-aws 3.4.1 needs no SDK v1.
//   - With SDK v2, fs.s3a.aws.credentials.provider names SDK v2 classes:
//     software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider
//     reads AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (hadoop-aws
//     aws_sdk_upgrade.md, "Credential Providers"; HADOOP-18743: the v1 class
//     name fails with ClassNotFoundException once the v1 SDK is gone).
//   - 4.0.x is published as apache/spark:<version>-scala2.13-java17-ubuntu
//     (apache/spark-docker: <version>/scala2.13-java17-ubuntu).
//
// The 3.5 line (Hadoop 3.3.4, aws-java-sdk-bundle 1.12.262, Scala 2.12) was
// dropped: the Spark Operator releases gen knows submit with Spark 4.0 (see
// Operators), and one platform runs one Spark.
var lines = []Line{
	{
		Line: "4.0", Scala: "2.13", Java: "17", Hadoop: "3.4.1",
		CredentialsProvider: "software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider",
		Jars: []Jar{
			{Group: "org.apache.hadoop", Artifact: "hadoop-aws", Version: "3.4.1"},
			{Group: "software.amazon.awssdk", Artifact: "bundle", Version: "2.24.6"},
		},
	},
}

// Operator is a Kubeflow Spark Operator release and the Spark its controller
// image runs spark-submit from. The jobs, the History Server and the
// operator must run one Spark line: a SparkApplication of another line is
// submitted by the operator's own spark-submit, and upstream supports only
// the line its image is built on (kubeflow/spark-operator#2617: 2.3 and
// later support Spark 4.0 only).
type Operator struct {
	Version string
	// Spark is the release of the operator image's base (its Dockerfile's
	// SPARK_IMAGE argument).
	Spark string
}

// operators: v2.5.2's Dockerfile builds FROM docker.io/apache/spark:4.0.4
// (ARG SPARK_IMAGE, tag v2.5.2, commit cd6bd1ca50e3).
var operators = []Operator{{Version: "2.5.2", Spark: "4.0.4"}}

// LookupOperator finds a Spark Operator release gen knows; the error names them.
func LookupOperator(version string) (Operator, error) {
	version = strings.TrimPrefix(version, "v")
	names := make([]string, 0, len(operators))
	for _, o := range operators {
		if o.Version == version {
			return o, nil
		}
		names = append(names, o.Version)
	}
	return Operator{}, fmt.Errorf("not a Spark Operator release gen knows the Spark of (known: %s)", strings.Join(names, ", "))
}

// LineOf is major.minor of a release ("4.0.4" -> "4.0").
func LineOf(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return version
	}
	return parts[0] + "." + parts[1]
}

// Lines are the supported release lines, oldest first (copies: the table
// cannot be changed through them).
func Lines() []Line {
	out := make([]Line, len(lines))
	for i, l := range lines {
		out[i] = l
		out[i].Jars = append([]Jar(nil), l.Jars...)
	}
	return out
}

// Supported names the supported lines for error messages ("3.5.x, 4.0.x").
func Supported() string {
	names := make([]string, 0, len(lines))
	for _, l := range lines {
		names = append(names, l.Line+".x")
	}
	return strings.Join(names, ", ")
}

// Release is one Spark release of a supported line.
type Release struct {
	Version string
	Line
}

// releasePattern accepts final releases only: previews ship other Hadoops.
var releasePattern = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

// Lookup finds the line of a Spark release ("4.0.4"). The error names the
// supported lines.
func Lookup(version string) (Release, error) {
	m := releasePattern.FindStringSubmatch(version)
	if m == nil {
		return Release{}, fmt.Errorf("must be a Spark release like 4.0.4; supported: %s", Supported())
	}
	for _, l := range Lines() {
		if l.Line == m[1]+"."+m[2] {
			return Release{Version: version, Line: l}, nil
		}
	}
	return Release{}, fmt.Errorf("unsupported Spark release; supported: %s", Supported())
}

// BaseImage is the official apache/spark image of the release, the image's
// FROM: Ubuntu, the line's Scala, Java 17, without Python or R.
func (r Release) BaseImage() string {
	return BaseRepository + ":" + r.Version + "-scala" + r.Scala + "-java" + r.Java + "-ubuntu"
}

// Tag is the Spark + S3A image's tag: the Spark release and its Hadoop, the
// two facts that decide which jars are inside.
func (r Release) Tag() string { return r.Version + "-hadoop" + r.Hadoop }

// ExamplesJar is the path of the Spark examples jar inside the image.
func (r Release) ExamplesJar() string {
	return "/opt/spark/examples/jars/spark-examples_" + r.Scala + "-" + r.Version + ".jar"
}
