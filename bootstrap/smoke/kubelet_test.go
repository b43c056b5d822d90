//go:build linux

package smoke

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"

	"github.com/rdspark/gen/generator/image"
	"github.com/rdspark/gen/generator/s3"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// kubelet stands in for the one thing of a kubelet that gen smoke uses
// besides pod status: the streaming endpoints kube-apiserver forwards to,
// /portForward/<ns>/<pod> (SPDY, protocol portforward.k8s.io, one error and
// one data stream per connection, paired by requestID, as kubelet's
// pkg/cri/streaming/portforward serves it) and /containerLogs/<ns>/<pod>/<container>.
// A forwarded port reaches a loopback address chosen by the test instead
// of the pod's network namespace.
type kubelet struct {
	srv *httptest.Server
	mu  sync.Mutex
	// targets maps "<ns>/<pod>:<port>" to a loopback host:port.
	targets map[string]string
	// logs maps "<ns>/<pod>/<container>" to the container's log.
	logs map[string]string
	// forwarded counts the data streams served per target.
	forwarded map[string]int
}

// startKubelet serves on a TLS loopback port and makes kube-apiserver trust
// it: kube-apiserver (started after this, with the test's environment) reads
// SSL_CERT_FILE for the roots it checks kubelets against when no
// --kubelet-certificate-authority is given.
func startKubelet(t *testing.T) *kubelet {
	t.Helper()
	k := &kubelet{targets: map[string]string{}, logs: map[string]string{}, forwarded: map[string]int{}}
	k.srv = httptest.NewUnstartedServer(http.HandlerFunc(k.serve))
	k.srv.EnableHTTP2 = false // SPDY upgrades need HTTP/1.1
	k.srv.StartTLS()
	t.Cleanup(k.srv.Close)
	roots := filepath.Join(t.TempDir(), "kubelet-ca.pem")
	if err := os.WriteFile(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", roots)
	return k
}

func (k *kubelet) port() int32 { return int32(k.srv.Listener.Addr().(*net.TCPAddr).Port) }

// register creates the Node object that points kube-apiserver at this kubelet.
func (k *kubelet) register(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	ctx := context.Background()
	node, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = k.port()
	node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (k *kubelet) target(ns, pod string, port int, addr string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.targets[fmt.Sprintf("%s/%s:%d", ns, pod, port)] = addr
}

func (k *kubelet) log(ns, pod, container, text string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.logs[ns+"/"+pod+"/"+container] = text
}

func (k *kubelet) count(ns, pod string, port int) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.forwarded[fmt.Sprintf("%s/%s:%d", ns, pod, port)]
}

func (k *kubelet) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 3 && parts[0] == "portForward":
		k.portForward(w, r, parts[1], parts[2])
	case len(parts) == 4 && parts[0] == "containerLogs":
		k.mu.Lock()
		text, ok := k.logs[parts[1]+"/"+parts[2]+"/"+parts[3]]
		k.mu.Unlock()
		if !ok {
			http.Error(w, "container not found", http.StatusNotFound)
			return
		}
		if tail := r.URL.Query().Get("tailLines"); tail != "" {
			var n int
			fmt.Sscan(tail, &n)
			lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
			if n < len(lines) {
				text = strings.Join(lines[len(lines)-n:], "\n") + "\n"
			}
		}
		io.WriteString(w, text)
	default:
		http.NotFound(w, r)
	}
}

func (k *kubelet) portForward(w http.ResponseWriter, r *http.Request, ns, pod string) {
	if _, err := httpstream.Handshake(r, w, []string{"portforward.k8s.io"}); err != nil {
		return // Handshake wrote the error
	}
	streams := make(chan httpstream.Stream)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(s httpstream.Stream, _ <-chan struct{}) error {
		streams <- s
		return nil
	})
	if conn == nil {
		return
	}
	defer conn.Close()
	conn.SetIdleTimeout(time.Minute)
	errorStreams := map[string]httpstream.Stream{}
	var mu sync.Mutex
	for {
		select {
		case <-conn.CloseChan():
			return
		case s := <-streams:
			id, port := s.Headers().Get("requestID"), s.Headers().Get("port")
			switch s.Headers().Get("streamType") {
			case "error":
				mu.Lock()
				errorStreams[id] = s
				mu.Unlock()
			case "data":
				go func() {
					defer s.Close()
					key := ns + "/" + pod + ":" + port
					k.mu.Lock()
					addr, ok := k.targets[key]
					k.forwarded[key]++
					k.mu.Unlock()
					// The client opens the error stream first; wait for it.
					var errStream httpstream.Stream
					for range 50 {
						mu.Lock()
						errStream = errorStreams[id]
						mu.Unlock()
						if errStream != nil {
							break
						}
						time.Sleep(10 * time.Millisecond)
					}
					if errStream != nil {
						defer errStream.Close()
					}
					fail := func(msg string) {
						if errStream != nil {
							io.WriteString(errStream, msg)
						}
					}
					if !ok {
						fail("no target for " + key)
						return
					}
					target, err := net.Dial("tcp", addr)
					if err != nil {
						fail(err.Error())
						return
					}
					defer target.Close()
					done := make(chan struct{})
					go func() {
						io.Copy(target, s)
						if tc, ok := target.(*net.TCPConn); ok {
							tc.CloseWrite()
						}
						close(done)
					}()
					io.Copy(s, target)
					<-done
				}()
			}
		}
	}
}

// readyPodFor creates a Running, Ready pod on node from the rendered
// Deployment whose pods the Service selects, as the Deployment's controller,
// the scheduler and kubelet would.
func readyPodFor(t *testing.T, cs kubernetes.Interface, s Service, name, node string) {
	t.Helper()
	ctx := context.Background()
	svc, err := cs.CoreV1().Services(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deployments, err := cs.AppsV1().Deployments(s.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deployments.Items {
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
			continue
		}
		spec := d.Spec.Template.Spec
		spec.NodeName = node
		pod, err := cs.CoreV1().Pods(s.Namespace).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.Namespace, Labels: d.Spec.Template.Labels}, Spec: spec}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pod.Status.Phase = corev1.PodRunning
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		if _, err := cs.CoreV1().Pods(s.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("no Deployment's pods match the selector of %s", s)
}

// TestSmokeThroughAPortForward runs gen smoke with its production
// Endpoints, the port-forward: client-go's SPDY stream through a real
// kube-apiserver to a kubelet (the stand-in above) that connects it to the
// real MinIO and to the History Server test server; and reads the driver's
// log tail through the API server from the same kubelet.
func TestSmokeThroughAPortForward(t *testing.T) {
	cfg := upstreamtest.Config(t)
	cfg.Complete()
	store := startMinIO(t, cfg)
	k := startKubelet(t) // before the API server: it must trust the kubelet
	cluster := testcluster.Start(t)
	restCfg := cluster.RestConfig()
	applyTree(t, restCfg, cfg, "namespaces", "spark-crds", "spark-jobs", "minio", "spark-history")
	cs := kubernetes.NewForConfigOrDie(restCfg)
	dyn := dynamic.NewForConfigOrDie(restCfg)
	const node = "lima-rancher-desktop"
	k.register(t, cs, node)
	ns := cfg.Spec.SparkOperator.JobNamespaces[0]
	if _, err := cs.CoreV1().Secrets(ns).Create(context.Background(), credentialsSecret(cfg, ns, store.user, store.password), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	history := &historyApps{}
	historySrv, _ := historyServer(t, history.list)

	storeService, _ := serviceOf(s3.Endpoint(cfg))
	readyPodFor(t, cs, storeService, "minio-7d9c6b5f4-x2x7q", node)
	readyPodFor(t, cs, HistoryService, "spark-history-5f8b9c7d6-q4w2e", node)
	storePort, historyPort := containerPortOf(t, cs, storeService), containerPortOf(t, cs, HistoryService)
	k.target(storeService.Namespace, "minio-7d9c6b5f4-x2x7q", storePort, strings.TrimPrefix(store.url, "http://"))
	k.target(HistoryService.Namespace, "spark-history-5f8b9c7d6-q4w2e", historyPort, strings.TrimPrefix(historySrv.URL, "http://"))
	sparkImage, err := image.Reference(cfg)
	if err != nil {
		t.Fatal(err)
	}

	run := func(t *testing.T, o *operator, play func()) Report {
		done := make(chan Report, 1)
		go func() {
			r, err := Run(context.Background(), restCfg, Options{
				Config: cfg, Environment: cfg.Spec.Environments[0].Name, Name: o.name,
				Timeout: time.Minute, Poll: 100 * time.Millisecond, EventLogWait: 5 * time.Second, HistoryWait: 5 * time.Second,
			})
			if err != nil {
				t.Error(err)
			}
			done <- r
		}()
		o.waitCreated()
		play()
		r := <-done
		report, _ := json.MarshalIndent(r, "", "  ")
		t.Logf("report:\n%s", report)
		// The pods were on a node: deleting them is graceful, so they are
		// gone or terminating (a kubelet would finish the deletion).
		pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: LabelAppName + "=" + o.name})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil {
				t.Errorf("pod %s was not deleted", p.Name)
			}
		}
		return r
	}

	t.Run("success", func(t *testing.T) {
		o := &operator{t: t, cs: cs, dyn: dyn, ns: ns, name: UniqueName(), appID: "spark-" + randomHex(t, 16), image: sparkImage, node: node}
		r := run(t, o, func() {
			o.driverRunning()
			o.executorsRunning()
			store.put(t, o.appID, eventLogLine)
			history.add(sparkApp(o.appID, "Spark Pi", true))
			o.completed()
		})
		if !r.Passed || r.EventLog != "s3a://"+store.bucket+"/"+store.prefix+o.appID {
			t.Errorf("passed %v, event log %q", r.Passed, r.EventLog)
		}
		if n := k.count(storeService.Namespace, "minio-7d9c6b5f4-x2x7q", storePort); n == 0 {
			t.Error("no connection to the object store went through the port-forward")
		}
		if n := k.count(HistoryService.Namespace, "spark-history-5f8b9c7d6-q4w2e", historyPort); n == 0 {
			t.Error("no connection to the History Server went through the port-forward")
		}
	})
	t.Run("driver failed, log tail", func(t *testing.T) {
		o := &operator{t: t, cs: cs, dyn: dyn, ns: ns, name: UniqueName(), appID: "spark-" + randomHex(t, 16), image: sparkImage, node: node}
		k.log(ns, o.name+"-driver", "spark-kubernetes-driver", strings.Repeat("INFO SparkContext: noise\n", 20)+
			"Exception in thread \"main\" java.nio.file.AccessDeniedException: s3a://spark/spark-events/"+o.appID+".inprogress: getFileStatus on s3a://spark/spark-events: 403 Forbidden\n")
		r := run(t, o, func() {
			o.driverRunning()
			o.podStatus(o.name+"-driver", corev1.PodFailed, terminated(1, "Error", ""))
			o.state(StateFailed, "driver container failed with ExitCode: 1, Reason: Error")
		})
		f := r.Failed()
		if f == nil || f.Name != StepExecutors || !strings.Contains(f.Cause, "log tail") || !strings.Contains(f.Cause, "403 Forbidden") || strings.Count(f.Cause, "noise") > 9 {
			t.Errorf("failure %+v", f)
		}
	})
	t.Run("no ready object store pod", func(t *testing.T) {
		// The object store's pod goes away: the port-forward names it.
		if err := cs.CoreV1().Pods(storeService.Namespace).Delete(context.Background(), "minio-7d9c6b5f4-x2x7q", metav1.DeleteOptions{GracePeriodSeconds: ptrTo[int64](0)}); err != nil {
			t.Fatal(err)
		}
		o := &operator{t: t, cs: cs, dyn: dyn, ns: ns, name: UniqueName(), appID: "spark-" + randomHex(t, 16), image: sparkImage, node: node}
		r := run(t, o, func() {
			o.driverRunning()
			o.executorsRunning()
			o.completed()
		})
		if f := r.Failed(); f == nil || f.Name != StepEventLog || !strings.Contains(f.Problem, "no ready pod") {
			t.Errorf("failure %+v", f)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }

// containerPortOf is the container port the Service sends s.Port to.
func containerPortOf(t *testing.T, cs kubernetes.Interface, s Service) int {
	t.Helper()
	_, port, err := (&PortForward{Client: cs}).target(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return port
}
