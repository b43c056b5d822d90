// Command pins prints, for hack/spark/build.sh, the Spark facts of gen's
// built-in defaults: the Spark release, its Scala, the path of the examples
// jar inside the image, and each S3A jar that image/Dockerfile adds (Maven
// coordinates, URL, SHA-1 URL). The script reads them here so that the tests'
// SPARK_HOME has exactly the jars the image gets, from one table
// (generator/image/spark), never from a second list.
//
// Output, one fact a line, for `eval` in bash:
//
//	SPARK_VERSION=4.0.4
//	SCALA=2.13
//	HADOOP=3.4.1
//	EXAMPLES_JAR=/opt/spark/examples/jars/spark-examples_2.13-4.0.4.jar
//	JARS+=('<file name> <url> <sha1 url>')
package main

import (
	"fmt"
	"os"

	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image/spark"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pins:", err)
		os.Exit(1)
	}
}

func run() error {
	version := config.Default().Spec.Spark.Version
	r, err := spark.Lookup(version)
	if err != nil {
		return fmt.Errorf("spec.spark.version %q: %w", version, err)
	}
	fmt.Printf("SPARK_VERSION=%s\n", r.Version)
	fmt.Printf("SCALA=%s\n", r.Scala)
	fmt.Printf("HADOOP=%s\n", r.Hadoop)
	fmt.Printf("EXAMPLES_JAR=%s\n", r.ExamplesJar())
	for _, j := range r.Jars {
		fmt.Printf("JARS+=('%s %s %s')\n", j.FileName(), j.URL(), j.SHA1URL())
	}
	return nil
}
