package spark

import (
	"strings"
	"testing"
)

func TestLookupFindsTheLineOfARelease(t *testing.T) {
	cases := []struct {
		version, hadoop, base, tag, examples string
		jars                                 []string
	}{
		{"4.0.4", "3.4.1", "docker.io/apache/spark:4.0.4-scala2.13-java17-ubuntu", "4.0.4-hadoop3.4.1",
			"/opt/spark/examples/jars/spark-examples_2.13-4.0.4.jar", nil},
		{"4.0.1", "3.4.1", "docker.io/apache/spark:4.0.1-scala2.13-java17-ubuntu", "4.0.1-hadoop3.4.1",
			"/opt/spark/examples/jars/spark-examples_2.13-4.0.1.jar",
			[]string{
				"https://repo1.maven.org/maven2/org/apache/hadoop/hadoop-aws/3.4.1/hadoop-aws-3.4.1.jar",
				"https://repo1.maven.org/maven2/software/amazon/awssdk/bundle/2.24.6/bundle-2.24.6.jar",
			}},
	}
	for _, tc := range cases {
		r, err := Lookup(tc.version)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", tc.version, err)
		}
		if r.Hadoop != tc.hadoop || r.BaseImage() != tc.base || r.Tag() != tc.tag || r.ExamplesJar() != tc.examples {
			t.Errorf("Lookup(%s) = Hadoop %s, base %s, tag %s, examples %s", tc.version, r.Hadoop, r.BaseImage(), r.Tag(), r.ExamplesJar())
		}
		if tc.jars == nil {
			continue
		}
		var urls []string
		for _, j := range r.Jars {
			urls = append(urls, j.URL())
			if j.SHA1URL() != j.URL()+".sha1" {
				t.Errorf("%s: checksum URL %s", j.FileName(), j.SHA1URL())
			}
		}
		if strings.Join(urls, "\n") != strings.Join(tc.jars, "\n") {
			t.Errorf("Lookup(%s) jars:\n%s\nwant:\n%s", tc.version, strings.Join(urls, "\n"), strings.Join(tc.jars, "\n"))
		}
	}
}

func TestUnsupportedReleasesNameTheSupportedLines(t *testing.T) {
	for _, v := range []string{"3.5.8", "3.4.1", "4.1.0", "2.4.8", "4.0", "4", "v4.0.4", "4.0.4 ", "4.0.0-preview2", "04.0.4", "latest", ""} {
		_, err := Lookup(v)
		if err == nil {
			t.Errorf("Lookup(%q) accepted", v)
			continue
		}
		if !strings.Contains(err.Error(), "supported: 4.0.x") {
			t.Errorf("Lookup(%q) error %q does not name the supported lines", v, err)
		}
	}
}

// TestTableIsConsistent: every line's hadoop-aws is its Hadoop, with exactly
// one AWS SDK bundle (v1 for Hadoop 3.3, v2 from Hadoop 3.4 on).
func TestTableIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range Lines() {
		if seen[l.Line] {
			t.Errorf("line %s is in the table twice", l.Line)
		}
		seen[l.Line] = true
		if len(l.Jars) != 2 {
			t.Errorf("line %s has %d jars, want hadoop-aws and one SDK bundle", l.Line, len(l.Jars))
			continue
		}
		if aws := l.Jars[0]; aws.Group != "org.apache.hadoop" || aws.Artifact != "hadoop-aws" || aws.Version != l.Hadoop {
			t.Errorf("line %s: first jar %+v is not hadoop-aws %s", l.Line, aws, l.Hadoop)
		}
		sdk := l.Jars[1]
		wantSDK := Jar{Group: "software.amazon.awssdk", Artifact: "bundle"}
		if strings.HasPrefix(l.Hadoop, "3.3.") {
			wantSDK = Jar{Group: "com.amazonaws", Artifact: "aws-java-sdk-bundle"}
		}
		if sdk.Group != wantSDK.Group || sdk.Artifact != wantSDK.Artifact || sdk.Version == "" {
			t.Errorf("line %s (Hadoop %s): SDK jar %+v, want %s:%s", l.Line, l.Hadoop, sdk, wantSDK.Group, wantSDK.Artifact)
		}
	}
}

func TestLinesCannotBeChangedFromOutside(t *testing.T) {
	l := Lines()
	l[0].Jars[0].Version = "0.0.0"
	l[0].Hadoop = "0.0.0"
	if again := Lines(); again[0].Jars[0].Version == "0.0.0" || again[0].Hadoop == "0.0.0" {
		t.Error("Lines returned the table itself")
	}
}

// The S3A credentials provider must be a class of the SDK the line's
// hadoop-aws uses: Hadoop 3.4 is on SDK v2, where the v1 class name fails
// with ClassNotFoundException (HADOOP-18743).
func TestCredentialsProviderMatchesTheSDK(t *testing.T) {
	for _, l := range Lines() {
		v2 := false
		for _, j := range l.Jars {
			v2 = v2 || j.Group == "software.amazon.awssdk"
		}
		if v2 != strings.HasPrefix(l.CredentialsProvider, "software.amazon.awssdk.") {
			t.Errorf("Spark %s: credentials provider %q does not belong to the line's AWS SDK (v2: %v)", l.Line, l.CredentialsProvider, v2)
		}
	}
}

// Every operator release gen knows submits with a Spark of a supported line,
// or no platform could be consistent with it.
func TestOperatorsRunASupportedSpark(t *testing.T) {
	for _, o := range operators {
		if _, err := Lookup(o.Spark); err != nil {
			t.Errorf("Spark Operator %s runs Spark %s: %v", o.Version, o.Spark, err)
		}
	}
	if _, err := LookupOperator("2.5.2"); err != nil {
		t.Error(err)
	}
	if _, err := LookupOperator("2.0.0"); err == nil || !strings.Contains(err.Error(), "known: 2.5.2") {
		t.Errorf("LookupOperator(2.0.0) = %v, want an error naming 2.5.2", err)
	}
}
