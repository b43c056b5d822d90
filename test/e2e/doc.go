// Package e2e runs gen's product promise end to end against a real Argo CD:
// a real kube-apiserver and etcd (internal/testcluster), Argo CD's
// argocd-repo-server and argocd-application-controller built from
// github.com/argoproj/argo-cd/v3 at the config's default pin (ArgoCDVersion;
// hack/argocd/build.sh, with Go 1.27 for that build alone) running as local
// processes with the kustomize CLI and git-verify-wrapper.sh of that release
// on their PATH, redis from Debian's redis-server, and Git served over HTTP
// on loopback by `git http-backend`.
//
// # The node: a real scheduler, a played kubelet
//
// The control plane runs the real kube-scheduler and the workload
// controllers of kube-controller-manager (testcluster.WorkloadControllers:
// deployment, replicaset, statefulset, job, serviceaccount, namespace,
// garbage collector, persistent-volume binder). There is no container
// runtime here, so the one node is played by internal/testnode's kubelet
// mode (StartKubelet): a Node with Rancher Desktop's default capacity (2
// CPUs, 4Gi: NodeCapacity, the default environment's), k3s's coredns and
// metrics-server running on it as pods, and every pod the scheduler binds
// to it reported running and ready (a Job's pod, succeeded); claims of k3s's
// local-path class get a volume once the scheduler has chosen the node, and
// Ingresses get the node's address as from Traefik. Everything between Git
// and that node is real: Argo CD's sync waves and health checks read the
// status that the real controllers write from the pods, and whether each pod
// fits is the scheduler's call. A pod that fits nowhere stays Pending with
// the scheduler's reason, and a test waiting for an Application (WaitApp,
// AwaitApp) names it: TestPlatformSyncsThroughGit proves that with a config
// that claims more than the node has, and checks that the requests of the
// running pods are exactly gen's budget.
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
// driven by the rendered objects: kube-apiserver, etcd,
// kube-controller-manager and kube-scheduler (internal/testcluster), Argo
// CD's application controller and repo-server (here), the MinIO server, mc
// and SeaweedFS's weed with the rendered bucket Jobs' scripts
// (test/objectstore), and the Spark Operator's controller and
// webhook (test/sparkoperator: the rendered args and env, each as its
// rendered ServiceAccount through a TokenRequest token, the webhook called by
// kube-apiserver through endpoint routing inside a private network
// namespace). What remains simulated, and what is checked instead:
//
//   - The kubelet and container runtime: the kubelet stand-in above reports
//     bound pods running without starting them, so probes, image pulls,
//     mounts and missing Secrets are not exercised by the e2e. Instead,
//     every pod template is evaluated with the Pod Security Admission
//     library and admitted by the real API server
//     (test/integration), and the programs themselves run as local processes
//     from the rendered args where they can be built here. Argo CD's own
//     processes are tied to their workloads where it matters: during gen
//     teardown (TestPlatformLifecycle) they are stopped as soon as their
//     StatefulSet or Deployment is deleted, as the kubelet would stop the
//     pods. They run with the test's admin kubeconfig, not Argo CD's
//     ServiceAccounts, so Argo CD's RBAC is applied and synced but does not
//     limit them.
//   - The Spark driver and executor as pods: the operator's cluster-mode
//     submission is not run yet. Instead, the real Spark 4.0.4 JVMs run from
//     hack/spark/build.sh's SPARK_HOME (the pyspark 4.0.4 sdist's jars and
//     bin/, plus the S3A jars that generator/image pins, each SHA-1 checked
//     against Maven Central): test/objectstore runs the example
//     SparkApplication's main class and mainApplicationFile with its
//     sparkConf, hadoopConf and env through spark-submit in local mode
//     (FAKE marker in spark_test.go, localSubmit), writing a real rolling
//     event log to the real MinIO over s3a://. The real operator webhook
//     defaults and validates the example and mutates a driver pod shaped like
//     spark-submit's (test/sparkoperator).
//   - The SparkPi job itself: Spark 4.x publishes no examples jar to a
//     registry this machine reaches, so hack/spark/pi is gen's own SparkPi
//     (same class name, same output line), built against Spark's jars and
//     put at the example's mainApplicationFile path.
//   - The Spark History Server runs for real (test/objectstore,
//     TestHistoryServerListsARealSparkApplication): the rendered command,
//     args, env and spark-defaults.conf, as uid 185 on a read-only root with
//     only the rendered emptyDirs writable, reading that event log from the
//     real MinIO; only its pod is not started by a kubelet.
//   - Argo CD's API server and UI (argocd-server), and its other optional
//     components: not started. Instead, their objects from the pinned
//     install.yaml and gen's patches (argocd-cmd-params-cm server.insecure,
//     the Ingress) are applied to a real API server and kept through a
//     bootstrap re-run (test/integration), and the sync that the UI would show
//     is asserted through the Application objects' status here.
package e2e
