// Package testcluster runs a real, throw-away Kubernetes control plane for
// integration tests: etcd, kube-apiserver and, on request,
// kube-controller-manager, as local processes on free loopback ports.
//
// Tests talk to a real API server rather than a fake client because what we
// need to prove lives on the server: OpenAPI and CRD schema validation,
// server-side apply, RBAC, admission (Pod Security), finalizers and
// controller-driven deletion. There is no kubelet or container runtime, so
// pods are accepted but never run; WithScheduler adds the real kube-scheduler,
// and internal/testnode's kubelet mode plays a node that reports the pods the
// scheduler binds to it as running.
//
// Usage:
//
//	c := testcluster.Start(t)                                    // etcd + kube-apiserver
//	c := testcluster.Start(t, testcluster.WithControllerManager("namespace"))
//	c := testcluster.Start(t, testcluster.WithControllerManager("*"), testcluster.WithScheduler())
//	cs := kubernetes.NewForConfigOrDie(c.RestConfig())
//	exec.Command("kubectl", "--kubeconfig", c.KubeconfigPath(), "get", "ns")
//
// Each Start gets its own certificates (CA, serving certificate, admin client
// certificate in the system:masters group), service-account signing key,
// etcd data directory and log files, all under t.TempDir(). Processes are
// stopped when the test finishes, whether it passed, failed or panicked, and
// are killed by the kernel if the test binary itself dies (Linux). If the
// test failed, the tail of every process log is printed first. (A panicking
// test is not yet marked failed when cleanups run, so it gets its stack trace
// but no log tails.)
//
// # Binaries
//
// The binaries are built from the Go module proxy by
//
//	hack/controlplane/build.sh
//
// into ${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}/k8s-v1.35.4/bin.
// $GEN_TEST_BIN overrides the directory. When they are missing, Start fails
// the test with instructions; only under `go test -short` does it skip
// instead, so a misconfigured CI job can never pass by silently skipping every
// integration test.
package testcluster
