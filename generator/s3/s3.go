// Package s3 holds the S3A settings every Spark process needs to talk to the
// platform's object store, so the History Server and Spark jobs cannot
// disagree, whichever store spec.objectStore.type selects.
package s3

import (
	"net/url"

	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image/spark"
	"github.com/rdspark/gen/generator/minio"
	"github.com/rdspark/gen/generator/seaweedfs"

	corev1 "k8s.io/api/core/v1"
)

// Endpoint is the S3 endpoint of the configured object store: the in-cluster
// Service of MinIO or SeaweedFS, or the external URL.
func Endpoint(cfg config.Platform) string {
	switch cfg.Spec.ObjectStore.Type {
	case config.ObjectStoreSeaweedFS:
		return seaweedfs.Endpoint()
	case config.ObjectStoreExternal:
		return cfg.Spec.ObjectStore.Endpoint
	default:
		return minio.Endpoint()
	}
}

// HadoopConf are the fs.s3a.* settings for the object store: explicit
// endpoint and region (the AWS SDK otherwise looks the region up, and fails
// against an in-cluster store), path-style access where buckets are not DNS
// names, SSL following the endpoint's scheme, and credentials from the AWS_*
// environment variables (fed by the credentials Secret, never written into
// config), read by the credentials provider class of the configured Spark
// line's AWS SDK (spark.Line.CredentialsProvider).
func HadoopConf(cfg config.Platform) map[string]string {
	endpoint := Endpoint(cfg)
	ssl := "false"
	if u, err := url.Parse(endpoint); err == nil && u.Scheme == "https" {
		ssl = "true"
	}
	pathStyle := "false"
	if cfg.Spec.ObjectStore.PathStyleAccess {
		pathStyle = "true"
	}
	return map[string]string{
		"fs.s3a.impl":                     "org.apache.hadoop.fs.s3a.S3AFileSystem",
		"fs.s3a.endpoint":                 endpoint,
		"fs.s3a.endpoint.region":          cfg.Spec.ObjectStore.Region,
		"fs.s3a.path.style.access":        pathStyle,
		"fs.s3a.connection.ssl.enabled":   ssl,
		"fs.s3a.aws.credentials.provider": credentialsProvider(cfg),
	}
}

// CredentialsEnv maps the credentials Secret onto the variables the AWS SDK reads.
func CredentialsEnv(cfg config.Platform) []corev1.EnvVar {
	secret := cfg.Spec.MinIO.CredentialsSecret
	return []corev1.EnvVar{
		component.SecretEnv("AWS_ACCESS_KEY_ID", secret, component.CredentialsUserKey),
		component.SecretEnv("AWS_SECRET_ACCESS_KEY", secret, component.CredentialsPasswordKey),
	}
}

// credentialsProvider is the line's class; the config is validated, so the
// release is known (an unknown one renders no provider rather than a wrong one).
func credentialsProvider(cfg config.Platform) string {
	release, err := spark.Lookup(cfg.Spec.Spark.Version)
	if err != nil {
		return ""
	}
	return release.CredentialsProvider
}
