// Package seaweedfs renders SeaweedFS, the Apache-2.0 S3 store selected with
// spec.objectStore.type: seaweedfs, in the object-store namespace (minio):
// one `weed server` pod that runs the master, a volume server, the filer and
// the S3 gateway on a volume, its Service, Ingress and NetworkPolicy, and the
// Job that creates the event-log bucket and prefix before anything reads them.
//
// Facts of the pinned release it relies on (see README.md, "Object store"):
// the S3 gateway listens on 8333 and answers GET /status when it is up; the
// master's HTTP port is 9333 and the filer's 8888, each with its gRPC port
// 10000 higher; AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment of
// the S3 gateway make a static admin identity (no s3.json needed); `weed shell`
// creates buckets (s3.bucket.create, which fails when the bucket exists) and
// `weed filer.copy` writes objects, both through the filer; an empty filer
// folder is not listed by S3, an object under it is; the image's non-root
// user is uid 1000, and weed runs as any user that can write its -dir.
package seaweedfs
