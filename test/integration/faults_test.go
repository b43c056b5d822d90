//go:build linux

package integration

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/rdspark/gen/bootstrap"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// The bootstrap faults of issue 9, each on a real control plane: the API
// server stopped in the middle of the apply, another field manager owning
// fields gen sets, a platform namespace stuck terminating, and credentials
// the API server rejects. Each must end in a clear error within a bounded
// time (or, for the field manager, in gen's values), and a run afterwards
// must converge to the state of an undisturbed bootstrap (assertBootstrapped).

// apiserverPID finds the kube-apiserver process of cluster (the one whose
// arguments name the cluster's folder). testcluster can stop the whole
// control plane, not the API server alone, so the test signals it directly.
func apiserverPID(t *testing.T, cluster *testcluster.Cluster) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to find the API server process in: %v", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if filepath.Base(args[0]) == "kube-apiserver" && strings.Contains(string(cmdline), cluster.Dir()+string(filepath.Separator)) {
			return pid
		}
	}
	t.Fatal("the cluster's kube-apiserver process was not found")
	return 0
}

// applyTrap runs stop once, right before the n-th server-side apply request.
type applyTrap struct {
	n       int32
	stop    func()
	patches atomic.Int32
	once    sync.Once
	at      time.Time
}

func (a *applyTrap) wrap(rt http.RoundTripper) http.RoundTripper { return &trapTransport{a, rt} }

// namesObject matches "apply Kind/namespace/name" or "read Kind/...".
var namesObject = regexp.MustCompile(`(apply|read) [A-Za-z]+/[a-z0-9.-]+`)

type trapTransport struct {
	trap *applyTrap
	rt   http.RoundTripper
}

func (t *trapTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	a := t.trap
	if r.Method == http.MethodPatch && a.patches.Add(1) == a.n {
		a.once.Do(func() {
			a.at = time.Now()
			a.stop()
		})
	}
	return t.rt.RoundTrip(r)
}

// CancelRequest lets client-go cancel a request through the wrapper (it
// logs a warning for every timeout otherwise).
func (t *trapTransport) CancelRequest(r *http.Request) {
	if c, ok := t.rt.(interface{ CancelRequest(*http.Request) }); ok {
		c.CancelRequest(r)
	}
}

// trappedOptions are bootstrapOptions whose client runs trap: the cluster's
// REST config with the per-request timeout Connect gives a kubeconfig.
func trappedOptions(cluster *testcluster.Cluster, cfg config.Platform, out *bytes.Buffer, trap *applyTrap) bootstrap.Options {
	o := bootstrapOptions(cluster, cfg, out)
	restCfg := cluster.RestConfig()
	restCfg.Timeout = o.RequestTimeout
	restCfg.Wrap(trap.wrap)
	o.RESTConfig = restCfg
	return o
}

func TestBootstrapFaults(t *testing.T) {
	cfg := upstreamtest.Config(t)
	ctx := context.Background()

	// The API server freezes (SIGSTOP) right before the 20th apply request,
	// inside the argocd step: every request in flight and every later one
	// must time out and bootstrap must stop with an error naming the step,
	// within a bound. Then the API server resumes (SIGCONT, same etcd) and a
	// second run converges.
	t.Run("API server stopped mid-apply, then back", func(t *testing.T) {
		cluster := testcluster.Start(t)
		pid := apiserverPID(t, cluster)
		t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
		trap := &applyTrap{n: 20, stop: func() { syscall.Kill(pid, syscall.SIGSTOP) }}
		var out bytes.Buffer
		o := trappedOptions(cluster, cfg, &out, trap)
		o.RequestTimeout = 5 * time.Second
		o.RESTConfig.Timeout = o.RequestTimeout
		start := time.Now()
		err := bootstrap.Run(ctx, o)
		took := time.Since(start)
		if trap.at.IsZero() {
			t.Fatalf("the trap never fired (%d apply requests): %v", trap.patches.Load(), err)
		}
		afterStop := time.Since(trap.at)
		// The request that times out first is an apply, or the read before
		// one (to tell whether it changed anything): either names the object.
		wantError(t, err, "argocd: ")
		if !namesObject.MatchString(err.Error()) {
			t.Errorf("the error does not name the object: %v", err)
		}
		if !strings.Contains(err.Error(), "Timeout") && !strings.Contains(err.Error(), "deadline exceeded") {
			t.Errorf("the error does not say the server timed out: %v", err)
		}
		t.Logf("API server stopped at apply request %d; bootstrap failed %s later (%s in all), %d apply requests sent: %v",
			trap.n, afterStop.Round(time.Millisecond), took.Round(time.Millisecond), trap.patches.Load(), err)
		// The bound: the requests in flight time out (5 s), the rest are
		// not sent; before the first error stopped the apply, each
		// remaining object waited out its own timeout (35 s here, 105 s
		// with the default 15 s request timeout).
		if afterStop > 20*time.Second {
			t.Errorf("bootstrap took %s to give up after the API server stopped", afterStop)
		}

		syscall.Kill(pid, syscall.SIGCONT)
		waitReady(t, cluster)
		out.Reset()
		if err := bootstrap.Run(ctx, bootstrapOptions(cluster, cfg, &out)); err != nil {
			t.Fatalf("re-run after the API server came back: %v\n%s", err, out.String())
		}
		assertBootstrapped(t, cluster, cfg)
	})

	// The whole control plane goes away (testcluster.Stop: etcd and the API
	// server, processes ended) right before the 20th apply: connections are
	// refused at once, so the error must come fast. testcluster cannot start
	// again on the same etcd data, so "a re-run converges" is shown on a new
	// control plane (and, on the same one, by the SIGSTOP case above).
	t.Run("control plane gone mid-apply", func(t *testing.T) {
		cluster := testcluster.Start(t)
		trap := &applyTrap{n: 20, stop: cluster.Stop}
		var out bytes.Buffer
		o := trappedOptions(cluster, cfg, &out, trap)
		err := bootstrap.Run(ctx, o)
		if trap.at.IsZero() {
			t.Fatalf("the trap never fired: %v", err)
		}
		afterStop := time.Since(trap.at)
		wantError(t, err, "argocd: ", "connection refused")
		if !namesObject.MatchString(err.Error()) {
			t.Errorf("the error does not name the object: %v", err)
		}
		t.Logf("control plane stopped at apply request %d; bootstrap failed %s later: %v", trap.n, afterStop.Round(time.Millisecond), err)
		if afterStop > 30*time.Second {
			t.Errorf("bootstrap took %s to give up after the control plane went away", afterStop)
		}

		fresh := testcluster.Start(t)
		out.Reset()
		if err := bootstrap.Run(ctx, bootstrapOptions(fresh, cfg, &out)); err != nil {
			t.Fatalf("run on a new control plane: %v\n%s", err, out.String())
		}
		assertBootstrapped(t, fresh, cfg)
	})

	// Someone else took two fields gen sets: one with a forced server-side
	// apply under its own field manager, one with a plain update (what
	// kubectl edit does). gen applies with force: its values win, it owns
	// the fields again, and it says objects changed.
	t.Run("conflicting field manager", func(t *testing.T) {
		cluster := testcluster.Start(t)
		var out bytes.Buffer
		if err := bootstrap.Run(ctx, bootstrapOptions(cluster, cfg, &out)); err != nil {
			t.Fatalf("first run: %v\n%s", err, out.String())
		}
		cs := kubernetes.NewForConfigOrDie(cluster.RestConfig())
		force := true
		applied := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"argocd-cmd-params-cm","namespace":"argocd"},"data":{"server.insecure":"false"}}`)
		if _, err := cs.CoreV1().ConfigMaps("argocd").Patch(ctx, "argocd-cmd-params-cm", types.ApplyPatchType, applied, metav1.PatchOptions{FieldManager: "platform-team", Force: &force}); err != nil {
			t.Fatal(err)
		}
		const healthKey = "resource.customizations.health.argoproj.io_Application"
		cm, err := cs.CoreV1().ConfigMaps("argocd").Get(ctx, "argocd-cm", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := cm.Data[healthKey]
		cm.Data[healthKey] = "hs = {status = \"Healthy\"}\nreturn hs\n"
		if _, err := cs.CoreV1().ConfigMaps("argocd").Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
			t.Fatal(err)
		}

		out.Reset()
		if err := bootstrap.Run(ctx, bootstrapOptions(cluster, cfg, &out)); err != nil {
			t.Fatalf("run over the other managers' fields: %v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), "2 objects created or changed") {
			t.Errorf("bootstrap does not report the two objects it took back:\n%s", out.String())
		}
		params, _ := cs.CoreV1().ConfigMaps("argocd").Get(ctx, "argocd-cmd-params-cm", metav1.GetOptions{})
		if params.Data["server.insecure"] != "true" {
			t.Errorf("server.insecure = %q after bootstrap, want gen's true", params.Data["server.insecure"])
		}
		argocdCM, _ := cs.CoreV1().ConfigMaps("argocd").Get(ctx, "argocd-cm", metav1.GetOptions{})
		if argocdCM.Data[healthKey] != want {
			t.Errorf("the health customization is not gen's after bootstrap:\n%s", argocdCM.Data[healthKey])
		}
		for _, c := range []struct {
			obj   *corev1.ConfigMap
			key   string
			other string
		}{{params, "server.insecure", "platform-team"}, {argocdCM, healthKey, "kubectl-edit"}} {
			owners := fieldOwners(c.obj.ManagedFields, c.key)
			if len(owners) != 1 || owners[0] != "gen" {
				t.Errorf("%s data[%s] is owned by %v, want gen alone (not %s)", c.obj.Name, c.key, owners, c.other)
			}
		}
		assertBootstrapped(t, cluster, cfg)
	})

	// minio is deleted while a finalizer holds one of its objects: the
	// namespace stays Terminating and nothing can be created in it. Bootstrap
	// must fail naming the namespace and why; once the finalizer is released
	// and the namespace is gone, a run converges.
	t.Run("namespace stuck terminating", func(t *testing.T) {
		cluster := testcluster.Start(t, testcluster.WithControllerManager("namespace-controller"))
		cs := kubernetes.NewForConfigOrDie(cluster.RestConfig())
		for _, before := range []string{"a fresh cluster", "a bootstrapped cluster"} {
			t.Run(before, func(t *testing.T) {
				var out bytes.Buffer
				if before == "a bootstrapped cluster" {
					if err := bootstrap.Run(ctx, bootstrapOptions(cluster, cfg, &out)); err != nil {
						t.Fatalf("first run: %v\n%s", err, out.String())
					}
				} else if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "minio"}}, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
				holdNamespace(t, cs, "minio")

				out.Reset()
				start := time.Now()
				err := bootstrap.Run(ctx, bootstrapOptions(cluster, cfg, &out))
				wantError(t, err, "minio", "terminat")
				t.Logf("stuck namespace, %s: failed in %s: %v", before, time.Since(start).Round(time.Millisecond), err)

				releaseNamespace(t, cs, "minio")
				out.Reset()
				if err := bootstrap.Run(ctx, bootstrapOptions(cluster, cfg, &out)); err != nil {
					t.Fatalf("run after the namespace was released: %v\n%s", err, out.String())
				}
				assertBootstrapped(t, cluster, cfg)
			})
		}
	})

	// Credentials the API server rejects: a bogus bearer token, and the
	// admin's identity in a client certificate that expired an hour ago.
	// Both must say Unauthorized, quickly, and touch nothing; the real
	// kubeconfig then converges.
	t.Run("rejected credentials", func(t *testing.T) {
		cluster := testcluster.Start(t)
		cs := kubernetes.NewForConfigOrDie(cluster.RestConfig())
		certPEM, keyPEM := expiredClientCert(t, cluster)
		users := map[string]string{
			"bogus bearer token":         "token: not-a-valid-token-0123456789",
			"expired client certificate": "client-certificate-data: " + b64(certPEM) + "\n    client-key-data: " + b64(keyPEM),
		}
		for name, user := range users {
			t.Run(name, func(t *testing.T) {
				kubeconfig := rejectedKubeconfig(t, cluster, user)
				var out bytes.Buffer
				o := bootstrapOptions(cluster, cfg, &out)
				o.Kubeconfig = kubeconfig
				start := time.Now()
				err := bootstrap.Run(ctx, o)
				took := time.Since(start)
				wantError(t, err, "Unauthorized")
				t.Logf("%s: failed in %s: %v", name, took.Round(time.Millisecond), err)
				if took > 15*time.Second {
					t.Errorf("took %s", took)
				}
				if _, err := cs.CoreV1().Namespaces().Get(ctx, "argocd", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					t.Errorf("namespace argocd exists after a rejected bootstrap (%v)", err)
				}
			})
		}
		var out bytes.Buffer
		if err := bootstrap.Run(ctx, bootstrapOptions(cluster, cfg, &out)); err != nil {
			t.Fatalf("run with the right credentials: %v\n%s", err, out.String())
		}
		assertBootstrapped(t, cluster, cfg)
	})
}

// waitReady waits until the API server answers /readyz again.
func waitReady(t *testing.T, cluster *testcluster.Cluster) {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(cluster.RestConfig())
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("API server not ready again: %v", err)
	}
}

// fieldOwners lists the managers that own data[key].
func fieldOwners(fields []metav1.ManagedFieldsEntry, key string) []string {
	var owners []string
	for _, f := range fields {
		if f.FieldsV1 != nil && strings.Contains(string(f.FieldsV1.Raw), `"f:`+key+`"`) {
			owners = append(owners, f.Manager)
		}
	}
	return owners
}

const holdFinalizer = "example.com/hold"

// holdNamespace deletes ns while a ConfigMap with a finalizer keeps it
// Terminating, and waits until the namespace controller has removed
// everything else (so that gen's Secret there is gone too).
func holdNamespace(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held", Namespace: ns, Finalizers: []string{holdFinalizer}}}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		n, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil || n.Status.Phase != corev1.NamespaceTerminating {
			return false, err
		}
		secrets, err := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
		return err == nil && len(secrets.Items) == 0, err
	})
	if err != nil {
		t.Fatalf("namespace %s did not get stuck terminating: %v", ns, err)
	}
}

// releaseNamespace removes the finalizer and waits until ns is gone.
func releaseNamespace(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	ctx := context.Background()
	if _, err := cs.CoreV1().ConfigMaps(ns).Patch(ctx, "held", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("namespace %s not gone after its finalizer was released: %v", ns, err)
	}
}

// expiredClientCert signs, with the cluster's CA, a client certificate for
// the admin's identity that expired an hour ago.
func expiredClientCert(t *testing.T, cluster *testcluster.Cluster) (certPEM, keyPEM []byte) {
	t.Helper()
	read := func(name string) *pem.Block {
		b, err := os.ReadFile(filepath.Join(cluster.Dir(), "pki", name))
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(b)
		if block == nil {
			t.Fatalf("%s is not PEM", name)
		}
		return block
	}
	ca, err := x509.ParseCertificate(read("ca.crt").Bytes)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := x509.ParseECPrivateKey(read("ca.key").Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "testcluster-admin", Organization: []string{"system:masters"}},
		NotBefore:    time.Now().Add(-48 * time.Hour),
		NotAfter:     time.Now().Add(-time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// rejectedKubeconfig is the cluster's kubeconfig (server and CA) with user
// as the credentials of context testcluster.
func rejectedKubeconfig(t *testing.T, cluster *testcluster.Cluster, user string) string {
	t.Helper()
	restCfg := cluster.RestConfig()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	content := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: testcluster
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: rejected
  user:
    %s
contexts:
- name: testcluster
  context: {cluster: testcluster, user: rejected}
current-context: testcluster
`, restCfg.Host, b64(restCfg.CAData), user)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
