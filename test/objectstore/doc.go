// Package objectstore runs the object stores of the rendered tree for real:
// the MinIO server and SeaweedFS's weed, built from their Go modules by
// hack/objectstore/build.sh, started as local processes with the command,
// args, env and ports of the rendered Deployment, and then the rendered
// bucket Job's script, verbatim, with the Job's env, twice (it must be
// idempotent). An S3 client then checks that the bucket and the event-log
// prefix exist, and every probe of the Deployment is asked on the port it
// names.
//
// # From a container to a local process
//
// Everything the test runs is read from the objects that kustomize builds
// from the rendered overlay (the ones Argo CD applies); nothing about them is
// retyped here. What the pod would get from Kubernetes or its image, the test
// supplies, each in one place (pod_test.go):
//
//   - the image: its /usr/bin is the build cache's bin folder, its ENTRYPOINT,
//     CMD and ENV are the release Dockerfile's (cited where they are written);
//   - Secrets: the credentials Secret that `gen bootstrap` creates, with its
//     own generator (bootstrap.NewObjectStoreCredentials), resolved through
//     the rendered secretKeyRefs;
//   - volumes: an emptyDir or PVC is a fresh folder; a mount path that exists
//     on this machine (/tmp) is bind-mounted there in the process's own mount
//     namespace, so paths inside a script work unchanged; one that does not
//     (/data) cannot be created without touching the machine's root
//     filesystem, so that path alone is rewritten in the args and env;
//   - the security context: each process runs in its own mount namespace
//     as the pod's runAsUser, runAsGroup and fsGroup (setpriv), with no
//     capabilities, no_new_privs, and / remounted read-only when the
//     container asks for a read-only root filesystem; the volumes stay
//     writable (TestLauncherAppliesTheSecurityContext proves all of it);
//   - cluster DNS and Services: the tests run in a private network and mount
//     namespace (TestMain); every rendered Service's cluster name resolves,
//     through a hosts file bind-mounted over /etc/hosts, to an address on the
//     namespace's loopback interface that plays the pod IP, and each Service
//     port must equal its target container port (no kube-proxy translates).
//
// Because the network namespace is private, the servers listen on the very
// addresses the rendered args name (":9000"), and nothing is exposed.
//
// # What is checked
//
// Every probe of the Deployment answers on the port it names; the Job
// succeeds twice and leaves the bucket and an object under the event-log
// prefix (S3A's view of a directory), the same after the second run; a Job
// started before its store waits for it (the script's own loop) and then
// succeeds; the store refuses a wrong secret and anonymous requests; no process's peak
// resident memory comes within 10% of its container's memory limit. Negative
// controls prove the S3 check can fail: copies of the Job's script with a
// wrong bucket name, or without the command that writes the prefix, each on
// a fresh store, must fail it for that reason.
//
// Not modelled: memory and CPU limits are compared, not enforced (no
// cgroup); the shell the scripts run with is this machine's /bin/sh (Debian's
// dash; the MinIO image has bash, the SeaweedFS image busybox), with its
// wget, grep and printf; the binaries are newer than the images' (see
// hack/objectstore/build.sh).
//
// Under `go test -short` every test skips. Otherwise missing binaries fail
// the test with the command that builds them (hack/objectstore/build.sh).
package objectstore
