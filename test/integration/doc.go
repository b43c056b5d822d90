// Package integration proves the rendered tree on a real Kubernetes API
// server (kube-apiserver + etcd built from Go modules, see
// internal/testcluster): the real CRD schemas, strict field validation and
// Pod Security Admission accept every object, and a second apply changes
// nothing. Upstream URLs point at a loopback server of the pinned release
// files (internal/upstreamtest), so the real Argo CD install and Spark
// Operator CRDs are applied too.
package integration
