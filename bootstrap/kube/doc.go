// Package kube applies objects to a cluster the way gen does everywhere:
// server-side apply with one field manager, strict field validation, CRDs and
// Namespaces first (waiting until the CRDs are Established), so the large
// upstream CRDs apply where client-side apply cannot.
package kube
