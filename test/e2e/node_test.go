//go:build linux

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rdspark/gen/cmd/gen/app"
	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/budget"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/internal/testnode"
)

// assertPodsFitTheBudget: once the platform is Synced and Healthy, every pod
// in the cluster was bound to the node by the real scheduler and runs (a
// Job's pod has succeeded), none is Pending, and the requests of the running
// pods are exactly what gen's budget for the environment counts (less the
// example SparkApplication, which no one submits here). So the figure that
// gen render prints and checks against the capacity is the one the
// scheduler sees: a workload the budget misses (a StatefulSet with
// requests, a sidecar) fails here.
func assertPodsFitTheBudget(t *testing.T, env *Env, cfg config.Platform) {
	t.Helper()
	ctx := context.Background()
	if pending := testnode.PendingPods(ctx, env.Client); len(pending) > 0 {
		t.Errorf("pods Pending on the %s CPU / %s node:\n  %s", NodeCapacity.CPU, NodeCapacity.Memory, strings.Join(pending, "\n  "))
	}
	pods, err := env.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cpu, memory := resource.Quantity{Format: resource.DecimalSI}, resource.Quantity{Format: resource.BinarySI}
	var running []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue // a finished rollout's old pod, on its way out
		}
		if p.Spec.NodeName != env.Kubelet.Name() {
			t.Errorf("pod %s/%s is bound to %q, not to the node %s", p.Namespace, p.Name, p.Spec.NodeName, env.Kubelet.Name())
			continue
		}
		switch p.Status.Phase {
		case corev1.PodSucceeded:
			continue // a bucket Job's pod: it holds no requests any more
		case corev1.PodRunning:
		default:
			t.Errorf("pod %s/%s is %s", p.Namespace, p.Name, p.Status.Phase)
			continue
		}
		c, m := budget.PodRequests(p.Spec)
		cpu.Add(c)
		memory.Add(m)
		running = append(running, fmt.Sprintf("%s/%s %s %s", p.Namespace, p.Name, budget.CPU(c), budget.Memory(m)))
	}
	slices.Sort(running)

	want := environmentBudget(t, cfg, "rancher-desktop")
	wantCPU, wantMemory := resource.Quantity{Format: resource.DecimalSI}, resource.Quantity{Format: resource.BinarySI}
	for _, it := range want.Items {
		if strings.HasPrefix(it.Name, "example ") {
			continue // the example's driver and executors: not submitted here
		}
		wantCPU.Add(it.CPU)
		wantMemory.Add(it.Memory)
	}
	if cpu.Cmp(wantCPU) != 0 || memory.Cmp(wantMemory) != 0 {
		t.Errorf("the running pods request %s CPU and %s memory; gen's budget counts %s and %s for them\nrunning pods:\n  %s\nbudget:\n%s",
			budget.CPU(cpu), budget.Memory(memory), budget.CPU(wantCPU), budget.Memory(wantMemory), strings.Join(running, "\n  "), want.Table())
		return
	}
	t.Logf("%d pods run on the %s CPU / %s node, requesting %s CPU and %s memory, as gen's budget says", len(running), NodeCapacity.CPU, NodeCapacity.Memory, budget.CPU(cpu), budget.Memory(memory))
}

// environmentBudget is gen's budget of cfg's environment name, from a fresh
// render, as gen render computes and prints it.
func environmentBudget(t *testing.T, cfg config.Platform, name string) budget.Budget {
	t.Helper()
	cfg.Complete()
	ms, err := generator.Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range cfg.Spec.Environments {
		if e.Name == name {
			b, err := generator.Budget(cfg, ms, e)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("config has no environment %s", name)
	return budget.Budget{}
}

// assertUnschedulableIsNamed is the negative control of the node: a config
// that claims a bigger VM than the node has (capacity 8 CPU / 16Gi) passes
// gen render's budget with a 6Gi History Server, Argo CD syncs it, and the
// new pod fits nowhere on the 2 CPU / 4Gi node. The Application does not
// turn Healthy, and what the test prints when it waits for it names the pod
// and the scheduler's reason, as does gen status. Then the fix, a config
// that fits, converges
// and leaves nothing Pending. It returns the config it ends with.
func assertUnschedulableIsNamed(t *testing.T, env *Env, repo *GitRepo, cfg config.Platform) config.Platform {
	t.Helper()
	ctx := context.Background()
	big := withHistoryServer(cfg, "6Gi", "6Gi")
	big.Spec.Environments[0].Capacity = config.Capacity{CPU: "8", Memory: "16Gi"}
	rev := render(t, repo, big, "platform: a 6Gi History Server, capacity claimed 16Gi")
	env.RefreshApp(t, "spark-history")
	env.WaitApp(t, "spark-history", 2*time.Minute, func(s AppState) bool { return s.Sync == "Synced" && s.Revision == rev })

	var pending []string
	err := Poll(ctx, time.Minute, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		pending = testnode.PendingPods(ctx, env.Client)
		return slices.ContainsFunc(pending, func(p string) bool {
			return strings.HasPrefix(p, "spark-history/spark-history-") && strings.Contains(p, "Insufficient memory")
		}), nil
	})
	if err != nil {
		t.Fatalf("the 6Gi History Server pod is not Pending with Insufficient memory on the 4Gi node: pending %q", pending)
	}
	state, err := env.AwaitApp(ctx, "spark-history", 5*time.Second, func(s AppState) bool { return s.SyncedHealthy(rev) })
	switch {
	case err == nil:
		t.Errorf("spark-history is Healthy with its pod Pending: %s", state)
	case !strings.Contains(err.Error(), "Insufficient memory") || !strings.Contains(err.Error(), "spark-history/spark-history-"):
		t.Errorf("the wait for a Healthy spark-history does not name the Pending pod:\n%v", err)
	default:
		t.Logf("as a test that waits for it reports it: %v", err)
	}

	// gen status, what a user runs when the platform does not come up, says
	// the same, with the fix.
	var stdout, stderr bytes.Buffer
	args := []string{"status", "-c", filepath.Join(repo.WorkDir, "gen.yaml"), "--kubeconfig", env.Cluster.KubeconfigPath(), "--context", "testcluster"}
	err = app.Run(args, app.Streams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr})
	var exit *app.ExitError
	if !errors.As(err, &exit) || exit.Code != 1 {
		t.Errorf("gen status with a Pending History Server pod: %v, want exit status 1\n%s", err, stderr.String())
	}
	for _, want := range []string{"PENDING POD", "spark-history/spark-history-", "Insufficient memory", "Preferences > Virtual Machine"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("gen status lacks %q:\n%s", want, stdout.String())
		}
	}

	fits := withHistoryServer(cfg, "512Mi", "1Gi")
	rev = render(t, repo, fits, "platform: a History Server that fits")
	env.RefreshApp(t, "spark-history")
	env.WaitApp(t, "spark-history", 2*time.Minute, func(s AppState) bool { return s.SyncedHealthy(rev) })
	assertPodsFitTheBudget(t, env, fits)
	return fits
}

// withHistoryServer is cfg with the History Server's memory request and
// limit set in its first environment; it copies what it changes.
func withHistoryServer(cfg config.Platform, request, limit config.Quantity) config.Platform {
	cfg.Spec.Environments = slices.Clone(cfg.Spec.Environments)
	history := *cfg.Spec.Environments[0].Resources.HistoryServer
	history.Requests.Memory = request
	history.Limits.Memory = limit
	cfg.Spec.Environments[0].Resources.HistoryServer = &history
	return cfg
}
