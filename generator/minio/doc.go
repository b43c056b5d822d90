// Package minio renders the S3-compatible object store that holds Spark event
// logs: a single-replica MinIO on a volume, its Service and Ingress, a
// NetworkPolicy, and the Job that creates the bucket and the event-log prefix
// before the History Server first reads them.
package minio
