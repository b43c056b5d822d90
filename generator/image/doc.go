// Package image renders image/Dockerfile: the Spark + S3A image the History
// Server and the example SparkApplications run. It is the official
// apache/spark image of spec.spark.version plus hadoop-aws and the AWS SDK
// bundle of the Hadoop that Spark release ships (the table in the spark
// sub-package), each jar checked against the SHA-1 Maven Central publishes
// for it. Reference derives the image reference every Spark pod uses from the
// same pins, so the image that is built and the image the tree runs cannot
// disagree.
package image
