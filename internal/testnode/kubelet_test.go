//go:build linux

package testnode

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/internal/testcluster"
)

// TestKubelet runs the kubelet mode under the real scheduler and workload
// controllers: the node offers exactly its capacity less k3s's system pods,
// a replica that does not fit stays Pending with the scheduler's reason, a
// deleted pod goes away and is replaced, a Job completes, and an Ingress
// gets the node's address as from k3s's Traefik.
func TestKubelet(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test control plane; skipped under -short")
	}
	c := testcluster.Start(t,
		testcluster.WithControllerManager(testcluster.WorkloadControllers()...),
		testcluster.WithScheduler())
	cs := kubernetes.NewForConfigOrDie(c.RestConfig())
	capacity := config.Capacity{CPU: "2", Memory: "4Gi"}
	k := StartKubelet(t, cs, KubeletOptions{Capacity: capacity})
	ctx := context.Background()

	node, err := cs.CoreV1().Nodes().Get(ctx, k.Name(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := node.Status.Allocatable.Cpu(); got.Cmp(resource.MustParse("2")) != 0 {
		t.Errorf("allocatable cpu %s, want 2", got)
	}
	if got := node.Status.Allocatable.Memory(); got.Cmp(resource.MustParse("4Gi")) != 0 {
		t.Errorf("allocatable memory %s, want 4Gi", got)
	}
	if len(node.Spec.Taints) > 0 {
		t.Errorf("node keeps taints %v; the scheduler would place nothing", node.Spec.Taints)
	}

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "work"}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Two replicas of 1 CPU on a 2-CPU node whose system pods take 200m:
	// exactly one fits.
	labels := map[string]string{"app": "big"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "big", Namespace: "work"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					Containers: []corev1.Container{{
						Name: "app", Image: "registry.invalid/app:1",
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}},
					}},
				},
			},
		},
	}
	createRetrying(t, func() error {
		_, err := cs.AppsV1().Deployments("work").Create(ctx, d, metav1.CreateOptions{})
		return err
	})
	var pending []string
	waitFor(t, "one replica Ready and one Pending", func() (bool, string) {
		live, err := cs.AppsV1().Deployments("work").Get(ctx, "big", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		pending = PendingPods(ctx, cs)
		return live.Status.ReadyReplicas == 1 && len(pending) == 1 && strings.Contains(pending[0], "Unschedulable"),
			fmt.Sprintf("ready replicas %d, pending %q", live.Status.ReadyReplicas, pending)
	})
	if !strings.HasPrefix(pending[0], "work/big-") || !strings.Contains(pending[0], "Insufficient cpu") {
		t.Errorf("pending pod %q: want a work/big- pod with the scheduler's Insufficient cpu", pending[0])
	}

	// The running replica is deleted: the kubelet confirms the deletion and
	// the ReplicaSet's replacement is scheduled in its place.
	pods, err := cs.CoreV1().Pods("work").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(pods.Items, func(p corev1.Pod) bool { return p.Spec.NodeName == k.Name() })
	if i < 0 {
		t.Fatal("no replica on the node")
	}
	running := pods.Items[i]
	if err := cs.CoreV1().Pods("work").Delete(ctx, running.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deleted replica gone and another one Ready", func() (bool, string) {
		_, err := cs.CoreV1().Pods("work").Get(ctx, running.Name, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			return false, "deleted pod still there"
		}
		live, err := cs.AppsV1().Deployments("work").Get(ctx, "big", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return live.Status.ReadyReplicas == 1, fmt.Sprintf("ready replicas %d", live.Status.ReadyReplicas)
	})

	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "once", Namespace: "work"},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy:                corev1.RestartPolicyNever,
			AutomountServiceAccountToken: ptr.To(false),
			Containers: []corev1.Container{{
				Name: "once", Image: "registry.invalid/once:1",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}},
			}},
		}}},
	}
	if _, err := cs.BatchV1().Jobs("work").Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Job Complete", func() (bool, string) {
		live, err := cs.BatchV1().Jobs("work").Get(ctx, "once", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		complete := slices.ContainsFunc(live.Status.Conditions, func(c batchv1.JobCondition) bool {
			return c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue
		})
		return complete, fmt.Sprintf("succeeded %d, conditions %v", live.Status.Succeeded, live.Status.Conditions)
	})

	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "ui", Namespace: "work"},
		Spec: networkingv1.IngressSpec{IngressClassName: ptr.To(TraefikIngressClass), DefaultBackend: &networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "ui", Port: networkingv1.ServiceBackendPort{Number: 80}},
		}},
	}
	if _, err := cs.NetworkingV1().Ingresses("work").Create(ctx, ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.NetworkingV1().IngressClasses().Get(ctx, TraefikIngressClass, metav1.GetOptions{}); err != nil {
		t.Errorf("k3s's IngressClass: %v", err)
	}
	waitFor(t, "the Ingress addressed", func() (bool, string) {
		live, err := cs.NetworkingV1().Ingresses("work").Get(ctx, "ui", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		lb := live.Status.LoadBalancer.Ingress
		return len(lb) == 1 && lb[0].IP == "127.0.0.1", fmt.Sprintf("load balancer status %v", lb)
	})
}

// createRetrying retries while the namespace's default ServiceAccount, which
// the ServiceAccount admission plugin waits for, is still being made.
func createRetrying(t *testing.T, create func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := create()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 60s: %s", what, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
