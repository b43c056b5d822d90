package testcluster_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/rdspark/gen/internal/testcluster"
)

// TestAPIServer proves the plain etcd + kube-apiserver cluster is a real one:
// objects persist, the kubeconfig works, and admission is live.
func TestAPIServer(t *testing.T) {
	began := time.Now()
	c := testcluster.Start(t)
	t.Logf("time to /readyz: %s", time.Since(began).Round(time.Millisecond))

	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.RestConfig())

	t.Run("namespace and configmap", func(t *testing.T) {
		createNamespace(t, cs, "apps", nil)
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "apps"},
			Data:       map[string]string{"mode": "test"},
		}
		if _, err := cs.CoreV1().ConfigMaps("apps").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create configmap: %v", err)
		}
		got, err := cs.CoreV1().ConfigMaps("apps").Get(ctx, "settings", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get configmap: %v", err)
		}
		if got.Data["mode"] != "test" {
			t.Errorf("configmap data = %v, want mode=test", got.Data)
		}
	})

	t.Run("kubeconfig", func(t *testing.T) {
		cfg, err := clientcmd.BuildConfigFromFlags("", c.KubeconfigPath())
		if err != nil {
			t.Fatalf("load kubeconfig: %v", err)
		}
		if _, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{}); err != nil {
			t.Fatalf("get kube-system through the kubeconfig: %v", err)
		}
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			t.Skip("kubectl not on PATH; the kubeconfig was checked with client-go only")
		}
		out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", c.KubeconfigPath(),
			"get", "namespace", "kube-system", "-o", "name").Output()
		if err != nil {
			t.Fatalf("kubectl get namespace: %v", err)
		}
		if got := strings.TrimSpace(string(out)); got != "namespace/kube-system" {
			t.Errorf("kubectl printed %q, want namespace/kube-system", got)
		}
	})

	t.Run("pod security admission", func(t *testing.T) {
		createNamespace(t, cs, "restricted", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})

		privileged := restrictedPod("privileged")
		sc := privileged.Spec.Containers[0].SecurityContext
		sc.Privileged = new(true)
		sc.AllowPrivilegeEscalation = nil // API validation forbids it next to privileged
		_, err := cs.CoreV1().Pods("restricted").Create(ctx, privileged, metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "violates PodSecurity") {
			t.Fatalf("privileged pod in a restricted namespace: got error %v, want Forbidden by PodSecurity", err)
		}

		// The control: a pod that meets the restricted profile is accepted,
		// so the rejection above came from the policy and nothing else.
		if _, err := cs.CoreV1().Pods("restricted").Create(ctx, restrictedPod("compliant"), metav1.CreateOptions{}); err != nil {
			t.Fatalf("compliant pod in a restricted namespace: %v", err)
		}
	})

	// A webhook whose Service nobody routed fails at once and locally:
	// kube-apiserver looks for the Service's EndpointSlices (endpoint
	// routing) instead of dialing the Service's DNS name through the
	// machine's resolver. (Without the flag this subtest fails with a TLS
	// error from whatever server that name led to.)
	t.Run("unrouted webhook fails locally", func(t *testing.T) {
		createNamespace(t, cs, "hooked", nil)
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "hook", Namespace: "hooked"},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443}}},
		}
		if _, err := cs.CoreV1().Services("hooked").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		fail := admissionregistrationv1.Fail
		none := admissionregistrationv1.SideEffectClassNone
		hook := &admissionregistrationv1.ValidatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "unrouted"},
			Webhooks: []admissionregistrationv1.ValidatingWebhook{{
				Name:                    "unrouted.example.com",
				ClientConfig:            admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: "hooked", Name: "hook"}},
				Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}}},
				NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "hooked"}},
				FailurePolicy:           &fail,
				SideEffects:             &none,
				AdmissionReviewVersions: []string{"v1"},
			}},
		}
		if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, hook, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		defer cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(ctx, hook.Name, metav1.DeleteOptions{})
		// The configuration takes effect once the API server's informer
		// sees it: retry until the webhook answers.
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-", Namespace: "hooked"}}
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := cs.CoreV1().ConfigMaps("hooked").Create(ctx, cm, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if err != nil && strings.Contains(err.Error(), "unrouted.example.com") {
				if !strings.Contains(err.Error(), "no endpoints available") {
					t.Errorf("the unrouted webhook failed otherwise than for want of endpoints (did the API server dial out?): %v", err)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the webhook was never called; last: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// TestControllerManager proves kube-controller-manager runs the requested
// controller: without the namespace controller a deleted namespace would stay
// Terminating forever.
func TestControllerManager(t *testing.T) {
	began := time.Now()
	c := testcluster.Start(t, testcluster.WithControllerManager("namespace"))
	t.Logf("time to ready (with kube-controller-manager): %s", time.Since(began).Round(time.Millisecond))

	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.RestConfig())
	createNamespace(t, cs, "doomed", nil)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "content", Namespace: "doomed"}}
	if _, err := cs.CoreV1().ConfigMaps("doomed").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create configmap: %v", err)
	}

	deleted := time.Now()
	if err := cs.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete namespace: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ns, err := cs.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if err != nil {
			t.Fatalf("get namespace: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace still exists 60s after deletion: phase %s, conditions %+v", ns.Status.Phase, ns.Status.Conditions)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("namespace finalized %s after deletion", time.Since(deleted).Round(time.Millisecond))
}

// BenchmarkStartToReady measures a cold start of etcd + kube-apiserver up to
// /readyz; stopping is not timed.
func BenchmarkStartToReady(b *testing.B) {
	for b.Loop() {
		c := testcluster.Start(b)
		b.StopTimer()
		c.Stop()
		b.StartTimer()
	}
}

func createNamespace(t *testing.T, cs kubernetes.Interface, name string, labels map[string]string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if _, err := cs.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}

// restrictedPod returns a pod that satisfies the restricted Pod Security
// profile.
func restrictedPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   new(true),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name:  "app",
				Image: "registry.k8s.io/pause:3.10",
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: new(false),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
}
