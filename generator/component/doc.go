// Package component is the shape every platform component (MinIO, the Spark
// Operator, the History Server, Argo CD, ...) renders into, plus the small
// object builders they share: namespaces with Pod Security labels, hardened
// security contexts, resources, labels and image references.
package component
