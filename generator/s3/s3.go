// Package s3 holds the S3A settings every Spark process needs to talk to the
// platform's object store, so the History Server and Spark jobs cannot disagree.
package s3

import (
	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/minio"

	corev1 "k8s.io/api/core/v1"
)

// Region is explicit because the AWS SDK otherwise looks it up and fails
// against MinIO; MinIO accepts any region.
const Region = "us-east-1"

// HadoopConf are the fs.s3a.* settings for MinIO over plain HTTP: explicit
// endpoint and region, path-style access (no bucket subdomains in-cluster),
// SSL off, and credentials from the AWS_* environment variables (fed by the
// credentials Secret, never written into config).
func HadoopConf() map[string]string {
	return map[string]string{
		"fs.s3a.impl":                     "org.apache.hadoop.fs.s3a.S3AFileSystem",
		"fs.s3a.endpoint":                 minio.Endpoint(),
		"fs.s3a.endpoint.region":          Region,
		"fs.s3a.path.style.access":        "true",
		"fs.s3a.connection.ssl.enabled":   "false",
		"fs.s3a.aws.credentials.provider": "com.amazonaws.auth.EnvironmentVariableCredentialsProvider",
	}
}

// CredentialsEnv maps the MinIO credentials Secret onto the variables the
// AWS SDK reads.
func CredentialsEnv(cfg config.Platform) []corev1.EnvVar {
	secret := cfg.Spec.MinIO.CredentialsSecret
	return []corev1.EnvVar{
		component.SecretEnv("AWS_ACCESS_KEY_ID", secret, component.CredentialsUserKey),
		component.SecretEnv("AWS_SECRET_ACCESS_KEY", secret, component.CredentialsPasswordKey),
	}
}
