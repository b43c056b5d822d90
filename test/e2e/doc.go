// Package e2e runs gen's product promise end to end against a real Argo CD:
// a real kube-apiserver and etcd (internal/testcluster), Argo CD's
// argocd-repo-server and argocd-application-controller built from
// github.com/argoproj/argo-cd/v3 at the config's default pin (ArgoCDVersion;
// hack/argocd/build.sh, with Go 1.27 for that build alone) running as local
// processes with the kustomize CLI and git-verify-wrapper.sh of that release
// on their PATH, redis from Debian's redis-server, and Git served over HTTP
// on loopback by `git http-backend`.
//
// # No kubelet: the test plays the node
//
// Nothing runs pods here: there is no kubelet, scheduler, container runtime
// or workload controller. kube-controller-manager runs only the namespace and
// garbage-collector controllers, which do not fight the test, so that pruned
// namespaces and the objects they own really go away. A node simulator (internal/testnode,
// StartNode) watches Deployments, StatefulSets, Jobs, PersistentVolumeClaims
// and Ingresses in every namespace and marks them ready, complete, bound and
// addressed through their status subresources, with the fields the real
// kubelet, controllers, volume provisioner and Traefik would write
// (observedGeneration, updated/ready/available replicas, conditions). The API
// server and Argo CD stay real: sync waves, health gating and pruning run
// for real against that status.
//
// internal/testnode has a second, more honest mode, StartKubelet, for a
// cluster that also runs the real kube-scheduler (testcluster.WithScheduler)
// and the real workload controllers: there only the kubelet is faked (no
// container runtime, no probes: a pod bound to the node is reported running
// and ready at once), while placement against the environment's capacity,
// Pending pods with the scheduler's reason (testnode.PendingPods) and the
// readiness of Deployments and Jobs are real (test/integration,
// TestSchedulerFitsThePlatform).
//
// # Isolation
//
// TestMain calls Main, which re-executes the test binary in a private network
// and mount namespace: the application controller's metrics listener binds
// 0.0.0.0, and in that namespace loopback is the only interface. Every
// component listens on a free 127.0.0.1 port, keeps its data and logs under
// t.TempDir(), and is stopped when the test ends (by process group; the
// kernel kills them if the test binary dies). When a test fails, the tail of
// each component's log is printed.
//
// # Building blocks
//
//	env := e2e.Start(t)                      // cluster, Node, redis, Git server, upstream files
//	env.InstallArgoCD(t)                     // CRDs, config objects, default AppProject
//	env.StartArgoCD(t, e2e.ArgoCDOptions{})  // repo-server + application controller
//	repo := env.Git.NewRepo(t, "platform")
//	rev := repo.CommitDir(t, "testdata/app", "app", "first")
//	env.CreateApp(t, e2e.Application("app", repo.URL, "app"))
//	env.WaitApp(t, "app", time.Minute, func(s e2e.AppState) bool { return s.SyncedHealthy(rev) })
//
// Under `go test -short` every test skips. Otherwise missing binaries fail
// the test with instructions (hack/controlplane/build.sh,
// hack/argocd/build.sh).
//
// # What runs for real, and the fakes that remain
//
// This is the one list of what the tests simulate instead of running. Real,
// driven by the rendered objects: kube-apiserver, etcd, kube-controller-manager
// (internal/testcluster), Argo CD's application controller and repo-server
// (here), the MinIO server, mc and SeaweedFS's weed with the rendered bucket
// Jobs' scripts (test/objectstore), and the Spark Operator's controller and
// webhook (test/sparkoperator: the rendered args and env, each as its
// rendered ServiceAccount through a TokenRequest token, the webhook called by
// kube-apiserver through endpoint routing inside a private network
// namespace). What remains simulated, and what is checked instead:
//
//   - The kubelet and container runtime: the node simulator above marks
//     workloads ready. Instead, every pod template is evaluated with the Pod
//     Security Admission library and admitted by the real API server
//     (test/integration), and the programs themselves run as local processes
//     from the rendered args where they can be built here. Argo CD's own
//     processes are tied to their workloads where it matters: during gen
//     teardown (TestPlatformLifecycle) they are stopped as soon as their
//     StatefulSet or Deployment is deleted, as the kubelet would stop the
//     pods. They run with the test's admin kubeconfig, not Argo CD's
//     ServiceAccounts, so Argo CD's RBAC is applied and synced but does not
//     limit them.
//   - The Spark driver and executor JVMs: there is no Spark distribution
//     here. Instead, the example SparkApplication is accepted by the real
//     CRD schemas (test/integration), defaulted and validated by the real
//     operator webhook, and picked up by the real controller, which gets as
//     far as running bin/spark-submit (missing here) and records that failure
//     in the application's status; a driver pod shaped like spark-submit's is
//     mutated by the real webhook from the application's driver spec
//     (test/sparkoperator). The image's own contents (Hadoop and hadoop-aws
//     versions, uid) are checked by `make image-test` where a container
//     runtime exists.
//   - The Spark History Server JVM: same reason. Instead, its rendered
//     Deployment, ConfigMap (spark-defaults.conf with the S3A settings for the
//     configured object store) and Ingress are checked in the built overlays
//     (generator/kustomize_test.go, variants_test.go), applied to a real API
//     server, and synced by the real Argo CD here.
//   - Argo CD's API server and UI (argocd-server), and its other optional
//     components: not started. Instead, their objects from the pinned
//     install.yaml and gen's patches (argocd-cmd-params-cm server.insecure,
//     the Ingress) are applied to a real API server and kept through a
//     bootstrap re-run (test/integration), and the sync that the UI would show
//     is asserted through the Application objects' status here.
package e2e
