// Package testnode plays the node for tests, in one of two modes.
//
// StartNode is for a control plane without a kubelet, scheduler or workload
// controllers: it marks Deployments and StatefulSets ready, Jobs complete,
// PersistentVolumeClaims bound and Ingresses addressed through their status
// subresources, with coherent fields, the way kubelet, the controllers, a
// volume provisioner and an ingress controller would.
//
// StartKubelet is for a control plane that runs the real kube-scheduler
// (testcluster.WithScheduler) and the real workload controllers of
// kube-controller-manager (deployment, replicaset, statefulset, job,
// persistentvolume-binder, ...: testcluster.WorkloadControllers). It plays
// only the kubelet of one node, k3s's local-path provisioner, and Traefik's
// Ingress status: it registers a Node whose capacity is an
// environment's (config.Capacity), runs k3s's system pods on it
// (budget.K3sSystemPods, as pods, so the scheduler counts them), and reports
// the pods that the scheduler binds to it as running and ready (a Job's pods
// as succeeded). What is real: where a pod goes and whether it fits (the
// scheduler, with its default plugins: resources, taints, volume binding),
// ReplicaSets, pods, rollouts, Job completion, claim binding and the
// readiness of Deployments and StatefulSets (the controllers). What is
// faked: the container runtime (no image is pulled, no process starts),
// probes (a container is ready as soon as it is reported started), volumes,
// and the Secrets and ConfigMaps a pod references (a pod whose Secret does
// not exist, such as minio-root before gen bootstrap creates it, is
// admitted by the API server and reported running here, where a real
// kubelet would fail to start it), the node's heartbeats and the
// node-lifecycle controller (not run; the kubelet lifts the not-ready taint
// itself). A pod that fits on no node stays Pending with the scheduler's
// reason, which PendingPods names.
package testnode
