// Package bootstrap holds gen's side effects on a cluster; its sub-packages
// build the tree's kustomizations (kustomize) and apply objects with
// server-side apply (kube). Nothing under generator/ imports it.
package bootstrap
