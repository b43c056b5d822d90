// Package sparkoperator runs the real Kubeflow Spark Operator (v2.5.2, built
// from the release's source by hack/sparkoperator/build.sh) against a real
// control plane (internal/testcluster), driven by the objects gen renders:
//
//   - `controller start` and `webhook start` run as local processes with the
//     args and env of the rendered Deployments, each authenticated as its
//     rendered ServiceAccount through a token from the TokenRequest API, so
//     the RBAC gen renders is exactly what they are allowed to do;
//   - the webhook creates its certificate Secret and fills the caBundle of
//     both rendered webhook configurations; both take their leader-election
//     Leases;
//   - kube-apiserver calls the real webhook (endpoint routing to an address
//     of the test's private network namespace) for a SparkApplication and for
//     a driver pod in the job namespace;
//   - the controller picks up the example SparkApplication of examples/ and
//     gets as far as spark-submit, which is missing here (no Spark
//     distribution), and records that in the application's status; the
//     scheduled example is Scheduled with a next run;
//   - no "forbidden" in either log; a copy of the tree with one rule dropped
//     from gen's Role fails, naming it (the negative control).
//
// Both for the built-in defaults and for a config with two tenants, whose
// namespaces the operator then watches through the tenants' Roles.
//
// # Isolation
//
// TestMain re-executes the test binary in a private network namespace
// (internal/testnetns) with one extra address on loopback, the webhook pod's
// address: kube-apiserver refuses loopback addresses as endpoints, and the
// operator binds its webhook port on every interface. Everything runs inside
// that namespace, so nothing listens on, or dials out to, the machine's
// network.
//
// # Binaries
//
// hack/sparkoperator/build.sh builds spark-operator into
// ${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}/spark-operator-v2.5.2/bin
// (`make test` runs it). A missing binary fails the test with that command;
// only under `go test -short` does the test skip.
package sparkoperator
