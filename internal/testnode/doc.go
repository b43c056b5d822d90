// Package testnode plays the node for tests on a control plane without a
// kubelet or workload controllers: it marks Deployments and StatefulSets
// ready, Jobs complete, PersistentVolumeClaims bound and Ingresses addressed
// through their status subresources, with coherent fields, the way kubelet,
// the controllers, a volume provisioner and an ingress controller would.
package testnode
