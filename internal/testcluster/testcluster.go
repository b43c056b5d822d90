package testcluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/rdspark/gen/internal/testcache"
	"github.com/rdspark/gen/internal/testproc"
)

// KubernetesVersion is the version of kube-apiserver, kube-controller-manager
// and kube-scheduler that hack/controlplane/build.sh builds; it names the
// cache directory, so bumping it makes every developer rebuild.
const KubernetesVersion = "v1.35.4"

// startTimeout bounds how long Start waits for the control plane. /readyz
// takes 3-8 s on a 2-core machine; the margin is for loaded CI runners.
const startTimeout = 90 * time.Second

// logTailLines is how much of each process log a failing test prints.
const logTailLines = 40

const (
	etcdBin              = "etcd"
	apiserverBin         = "kube-apiserver"
	controllerManagerBin = "kube-controller-manager"
	schedulerBin         = "kube-scheduler"
)

// Option configures Start.
type Option func(*options)

type options struct {
	controllerManager bool
	controllers       []string
	scheduler         bool
}

// WithControllerManager also runs kube-controller-manager, with only the given
// controllers (its --controllers flag, e.g. "namespace", "garbage-collector",
// "*" for its defaults). Without it nothing finalizes a deleted namespace or
// collects garbage; keeping the list short keeps the test cluster quiet and
// leaves the workload controllers to the test when it wants to play them.
func WithControllerManager(controllers ...string) Option {
	return func(o *options) {
		o.controllerManager = true
		o.controllers = controllers
	}
}

// WorkloadControllers are the kube-controller-manager controllers that, next
// to the real scheduler (WithScheduler) and a kubelet (internal/testnode's
// kubelet mode), turn rendered workloads into pods and report their
// readiness the way a real cluster does. Not node-lifecycle: it would evict
// the pods of a node without kubelet heartbeats.
func WorkloadControllers() []string {
	return []string{
		"deployment-controller", "replicaset-controller", "statefulset-controller", "job-controller",
		// The ServiceAccount admission plugin stays on with these, as in a
		// real cluster: a pod naming a ServiceAccount the tree lacks is
		// refused.
		"serviceaccount-controller", "serviceaccount-token-controller",
		"namespace-controller", "garbage-collector-controller",
		// Binds a claim to the volume the kubelet's local-path provisioner
		// creates once the scheduler has chosen the node.
		"persistentvolume-binder-controller",
	}
}

// WithScheduler also runs the real kube-scheduler with its default profile,
// so pods get bound to nodes by the same filters (resources, taints, volume
// binding) as on a real cluster, and pods that fit nowhere stay Pending with
// the scheduler's reason. There are no nodes until a test registers one
// (internal/testnode's kubelet mode does).
func WithScheduler() Option {
	return func(o *options) { o.scheduler = true }
}

// Cluster is a running control plane. Use RestConfig or KubeconfigPath to
// talk to it; it is stopped automatically when the test ends.
type Cluster struct {
	tb         testing.TB
	dir        string
	restConfig *rest.Config
	kubeconfig string

	procs     []*testproc.Process // in start order; stopped in reverse
	ready     bool                // Start succeeded; later exits are unexpected
	logsShown bool                // the log tails are already in the test output
	stopOnce  sync.Once
}

// RestConfig returns a fresh copy of the admin client configuration, so a
// test can tweak it without affecting others.
func (c *Cluster) RestConfig() *rest.Config { return rest.CopyConfig(c.restConfig) }

// KubeconfigPath is a kubeconfig file with the admin credentials embedded and
// its current context set, for `kubectl --kubeconfig` and for code under test
// that takes a kubeconfig path.
func (c *Cluster) KubeconfigPath() string { return c.kubeconfig }

// Dir is the cluster's temporary directory (certificates, etcd data, logs).
func (c *Cluster) Dir() string { return c.dir }

// Stop stops all processes and waits for them to exit. It is called
// automatically from t.Cleanup; calling it earlier is fine, later calls do
// nothing.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		// A process that died while the test was running is a finding, not
		// noise: it is reported even when the test itself passed.
		for _, p := range c.procs {
			if done, err := p.Exited(); c.ready && done && !p.Stopped() {
				c.tb.Errorf("testcluster: %s exited while the test was running (%s)\n%s", p.Name, testproc.DescribeExit(err), p.Tail(logTailLines))
			}
		}
		for _, p := range slices.Backward(c.procs) {
			p.Stop()
		}
	})
}

// BinDir returns the directory the control-plane binaries are taken from:
// $GEN_TEST_BIN, or the cache directory hack/controlplane/build.sh writes to.
func BinDir() string {
	if dir := os.Getenv("GEN_TEST_BIN"); dir != "" {
		return dir
	}
	return testcache.Dir("k8s-"+KubernetesVersion, "bin")
}

// Start runs a control plane for the test and waits until kube-apiserver
// reports /readyz (and kube-controller-manager /healthz, when requested).
// Everything is torn down on t.Cleanup. Start fails the test if the binaries
// are missing (skips it under -short) or the control plane does not come up.
func Start(tb testing.TB, opts ...Option) *Cluster {
	tb.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}

	bins := []string{etcdBin, apiserverBin}
	if o.controllerManager {
		bins = append(bins, controllerManagerBin)
	}
	if o.scheduler {
		bins = append(bins, schedulerBin)
	}
	binDir := BinDir()
	for _, name := range bins {
		if err := checkBinary(filepath.Join(binDir, name)); err != nil {
			msg := fmt.Sprintf("testcluster: %v\n\n"+
				"Integration tests need a real etcd, kube-apiserver, kube-controller-manager and kube-scheduler %s.\n"+
				"Build them once (7-25 minutes cold, cached afterwards) from the repository root with:\n\n"+
				"    hack/controlplane/build.sh\n\n"+
				"or set GEN_TEST_BIN to a directory that holds them. Unit tests alone: go test -short ./...",
				err, KubernetesVersion)
			if testing.Short() {
				tb.Skip(msg)
			}
			tb.Fatal(msg)
		}
	}

	// TempDir first: cleanups run last-in first-out, so the processes are
	// stopped (registered below) before their directory is removed.
	dir := tb.TempDir()
	c := &Cluster{tb: tb, dir: dir}
	tb.Cleanup(func() {
		if tb.Failed() {
			c.dumpLogs()
		}
		c.Stop()
	})

	began := time.Now()
	if err := c.start(binDir, &o); err != nil {
		c.logsShown = true // the error carries them
		tb.Fatalf("testcluster: %v", err)
	}
	c.ready = true
	tb.Logf("testcluster: control plane ready in %s (%s)", time.Since(began).Round(time.Millisecond), dir)
	return c
}

func (c *Cluster) start(binDir string, o *options) error {
	pki, err := newPKI(filepath.Join(c.dir, "pki"))
	if err != nil {
		return fmt.Errorf("generate certificates: %w", err)
	}
	ports, err := freePorts(5)
	if err != nil {
		return err
	}
	etcdClientPort, etcdPeerPort, apiserverPort, cmPort, schedulerPort := ports[0], ports[1], ports[2], ports[3], ports[4]
	apiserverURL := "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(apiserverPort))

	c.restConfig = &rest.Config{
		Host: apiserverURL,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   pki.ca.certPEM,
			CertData: pki.admin.certPEM,
			KeyData:  pki.admin.keyPEM,
		},
		// client-go's default of 5 QPS throttles tests that create many
		// objects; a local apiserver has no one else to protect.
		QPS:   200,
		Burst: 400,
	}
	c.kubeconfig = filepath.Join(c.dir, "kubeconfig")
	if err := writeKubeconfig(c.kubeconfig, apiserverURL, pki); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}

	// etcd reads any ETCD_* environment variable as a flag; one leaking in
	// from the developer's shell must not reconfigure the test etcd.
	etcdEnv := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "ETCD_") })
	etcdClientURL := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(etcdClientPort))
	etcdPeerURL := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(etcdPeerPort))
	if err := c.run(binDir, etcdBin, etcdEnv,
		"--name=testcluster",
		"--data-dir="+filepath.Join(c.dir, "etcd-data"),
		"--listen-client-urls="+etcdClientURL,
		"--advertise-client-urls="+etcdClientURL,
		"--listen-peer-urls="+etcdPeerURL,
		"--initial-advertise-peer-urls="+etcdPeerURL,
		"--initial-cluster=testcluster="+etcdPeerURL,
		// Durability is worthless for a cluster that lives as long as a
		// test; fsync dominates etcd latency on most disks.
		"--unsafe-no-fsync",
	); err != nil {
		return err
	}

	// kube-apiserver is started right away: it retries etcd on its own, and
	// its /readyz covers etcd, so waiting for etcd first would only add time.
	apiserverArgs := []string{
		"--etcd-servers=" + etcdClientURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(apiserverPort),
		// Unused because the certificate is given, but the default is
		// /var/run/kubernetes, which tests must not touch.
		"--cert-dir=" + filepath.Join(c.dir, "apiserver-certs"),
		"--tls-cert-file=" + pki.servingCertFile,
		"--tls-private-key-file=" + pki.servingKeyFile,
		"--client-ca-file=" + pki.caCertFile,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + pki.saPubFile,
		"--service-account-signing-key-file=" + pki.saKeyFile,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
		// Priority and fairness adds its own objects and queueing; tests
		// want every request served immediately.
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		// There are no other apiserver replicas to reconcile the
		// `kubernetes` Service endpoints with.
		"--endpoint-reconciler-type=none",
		// Webhooks (and aggregated APIs) are called at an address of the
		// Service's EndpointSlices. Without this, kube-apiserver calls a
		// webhook Service by its DNS name (<svc>.<ns>.svc), which the
		// machine's resolver sends off the machine: measured here, such a
		// call reached a TLS server somewhere. With endpoint routing a
		// Service that no test routed fails at once and locally ("no
		// endpoints available"); a test that runs a webhook gives its
		// Service an EndpointSlice at an address of its own private
		// network namespace (see test/sparkoperator).
		"--enable-aggregator-routing=true",
	}
	if !runsController(o, "serviceaccount") {
		// The ServiceAccount admission plugin rejects pods whose service
		// account does not exist, and only the serviceaccount controller of
		// kube-controller-manager creates the `default` one in each
		// namespace.
		apiserverArgs = append(apiserverArgs, "--disable-admission-plugins=ServiceAccount")
	}
	if err := c.run(binDir, apiserverBin, os.Environ(), apiserverArgs...); err != nil {
		return err
	}

	deadline := time.Now().Add(startTimeout)
	apiClient, err := rest.HTTPClientFor(c.restConfig)
	if err != nil {
		return err
	}
	if err := c.waitHealthy(apiserverBin, apiClient, apiserverURL+"/readyz?verbose", deadline); err != nil {
		return err
	}

	if o.controllerManager {
		controllers := "*"
		if len(o.controllers) > 0 {
			controllers = strings.Join(o.controllers, ",")
		}
		if err := c.run(binDir, controllerManagerBin, os.Environ(),
			"--kubeconfig="+c.kubeconfig,
			"--authentication-kubeconfig="+c.kubeconfig,
			"--authorization-kubeconfig="+c.kubeconfig,
			"--bind-address=127.0.0.1",
			"--secure-port="+strconv.Itoa(cmPort),
			"--cert-dir="+filepath.Join(c.dir, "controller-manager-certs"),
			"--tls-cert-file="+pki.servingCertFile,
			"--tls-private-key-file="+pki.servingKeyFile,
			"--leader-elect=false",
			// Each controller acts as its own service account with the
			// bootstrap RBAC roles, as in a real cluster, so RBAC mistakes
			// in what we render show up in tests.
			"--use-service-account-credentials=true",
			"--service-account-private-key-file="+pki.saKeyFile,
			"--root-ca-file="+pki.caCertFile,
			"--cluster-signing-cert-file="+pki.caCertFile,
			"--cluster-signing-key-file="+pki.caKeyFile,
			"--controllers="+controllers,
		); err != nil {
			return err
		}
		// /healthz is served without authentication (it is on the default
		// --authorization-always-allow-paths); only the CA is needed.
		cmClient, err := rest.HTTPClientFor(&rest.Config{TLSClientConfig: rest.TLSClientConfig{CAData: pki.ca.certPEM}})
		if err != nil {
			return err
		}
		cmURL := "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(cmPort)) + "/healthz"
		if err := c.waitHealthy(controllerManagerBin, cmClient, cmURL, deadline); err != nil {
			return err
		}
	}

	if o.scheduler {
		// No --config: the default profile is what k3s runs too, and the
		// flags below are the ones kube-scheduler still honours without a
		// configuration file.
		if err := c.run(binDir, schedulerBin, os.Environ(),
			"--kubeconfig="+c.kubeconfig,
			"--authentication-kubeconfig="+c.kubeconfig,
			"--authorization-kubeconfig="+c.kubeconfig,
			"--bind-address=127.0.0.1",
			"--secure-port="+strconv.Itoa(schedulerPort),
			// Its default would write a self-signed certificate into
			// /var/run/kubernetes, which tests must not touch.
			"--cert-dir="+filepath.Join(c.dir, "scheduler-certs"),
			"--tls-cert-file="+pki.servingCertFile,
			"--tls-private-key-file="+pki.servingKeyFile,
			"--leader-elect=false",
		); err != nil {
			return err
		}
		// Like the controller manager's, /healthz is always allowed.
		schedClient, err := rest.HTTPClientFor(&rest.Config{TLSClientConfig: rest.TLSClientConfig{CAData: pki.ca.certPEM}})
		if err != nil {
			return err
		}
		schedURL := "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(schedulerPort)) + "/healthz"
		if err := c.waitHealthy(schedulerBin, schedClient, schedURL, deadline); err != nil {
			return err
		}
	}
	return nil
}

// run starts one component and records it for Stop.
func (c *Cluster) run(binDir, name string, env []string, args ...string) error {
	p, err := testproc.Start(c.dir, name, filepath.Join(binDir, name), args, env)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	return nil
}

// waitHealthy polls url until it answers 200 OK, any component exits, or the
// deadline passes. The error carries the log tails, which usually name the
// cause (a port in use, a rejected flag, etcd unreachable).
func (c *Cluster) waitHealthy(name string, client *http.Client, url string, deadline time.Time) error {
	// A component that exits will never become healthy: stop waiting at
	// once instead of at the deadline, and abort a probe in flight (a
	// /readyz call can hang for seconds while etcd is unreachable).
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	for _, p := range c.procs {
		go func() {
			select {
			case <-p.Done():
				cancel()
			case <-ctx.Done():
			}
		}()
	}

	lastErr := fmt.Errorf("no answer yet")
	for ctx.Err() == nil {
		err := probe(ctx, client, url)
		if err == nil {
			return nil
		}
		if ctx.Err() == nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	for _, p := range c.procs {
		if done, err := p.Exited(); done {
			return fmt.Errorf("%s exited during startup (%s)\n%s", p.Name, testproc.DescribeExit(err), c.logTails())
		}
	}
	return fmt.Errorf("%s not healthy at %s within %s: %v\n%s", name, url, startTimeout, lastErr, c.logTails())
}

func probe(ctx context.Context, client *http.Client, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, failedChecks(string(body)))
	}
	return nil
}

// failedChecks keeps only the failing lines ("[-]etcd failed: ...") of a
// verbose /readyz answer, which is otherwise dozens of "[+]... ok" lines.
func failedChecks(body string) string {
	var failed []string
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, "[-]") {
			failed = append(failed, strings.TrimSpace(line))
		}
	}
	if len(failed) == 0 {
		return strings.TrimSpace(body)
	}
	return strings.Join(failed, "; ")
}

func (c *Cluster) logTails() string {
	var b strings.Builder
	for _, p := range c.procs {
		b.WriteString(p.Tail(logTailLines))
	}
	return b.String()
}

func (c *Cluster) dumpLogs() {
	if len(c.procs) > 0 && !c.logsShown {
		c.tb.Logf("testcluster: the test failed; process logs are in %s\n%s", c.dir, c.logTails())
	}
}

// runsController reports whether kube-controller-manager runs controller name,
// following its --controllers syntax: "*" enables the defaults, "-name"
// disables one.
func runsController(o *options, name string) bool {
	if !o.controllerManager {
		return false
	}
	list := o.controllers
	if len(list) == 0 {
		list = []string{"*"}
	}
	// kube-controller-manager accepts "serviceaccount" as an alias of its
	// current name "serviceaccount-controller"; look for either.
	named := func(n string) bool {
		return slices.Contains(list, n) || slices.Contains(list, n+"-controller")
	}
	return named(name) || (slices.Contains(list, "*") && !named("-"+name))
}

// checkBinary reports why path cannot be used as a component binary.
func checkBinary(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// freePorts asks the kernel for n distinct free loopback ports. All listeners
// are held until every port is picked so that the same port cannot be
// returned twice; another process could still take one before the component
// binds it, which is rare enough on loopback to accept.
func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// writeKubeconfig writes a self-contained kubeconfig (credentials embedded,
// no paths to other files) with a current context.
func writeKubeconfig(path, server string, pki *pki) error {
	const name = "testcluster"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: pki.ca.certPEM}
	cfg.AuthInfos[name+"-admin"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: pki.admin.certPEM,
		ClientKeyData:         pki.admin.keyPEM,
	}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name + "-admin", Namespace: "default"}
	cfg.CurrentContext = name
	return clientcmd.WriteToFile(*cfg, path)
}
