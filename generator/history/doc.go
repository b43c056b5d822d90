// Package history renders the Spark History Server: it reads event logs from
// MinIO over s3a://, runs in the foreground so Kubernetes sees it, and is
// reached through an Ingress.
package history
