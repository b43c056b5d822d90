//go:build linux

package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	gensync "github.com/rdspark/gen/bootstrap/sync"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// reportApplications writes what Argo CD would into every Application's
// status: sync status, health and the commit compared against.
func reportApplications(t *testing.T, cluster *testcluster.Cluster, sync, health, revision string) {
	t.Helper()
	apps := dynamic.NewForConfigOrDie(cluster.RestConfig()).Resource(applications).Namespace("argocd")
	list, err := apps.List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Error(err)
		return
	}
	for _, a := range list.Items {
		patch := []byte(`{"status":{"sync":{"status":"` + sync + `","revision":"` + revision + `"},"health":{"status":"` + health + `"}}}`)
		if _, err := apps.Patch(context.Background(), a.GetName(), types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Error(err)
		}
	}
}

// TestSync runs gen sync against a real API server, with the test playing
// Argo CD's part (the status it writes); test/e2e runs it against a real
// Argo CD. gen sync asks for a hard refresh of every Application, fails
// naming each one that is not at the commit when the timeout passes, and
// returns once all are Synced and Healthy there.
func TestSync(t *testing.T) {
	cluster := testcluster.Start(t)
	cfg := upstreamtest.Config(t)
	dir := configDir(t, cfg)
	const old, pushed = "0123456789abcdef0123456789abcdef01234567", "fedcba9876543210fedcba9876543210fedcba98"

	// Nothing installed: it says so and what to do.
	_, stderr, code := gen(t, dir, cluster, "sync", "--revision", pushed, "--timeout", "5s")
	if code != 1 || !strings.Contains(stderr, "spark-platform") || !strings.Contains(stderr, "gen bootstrap") {
		t.Errorf("sync on an empty cluster: exit %d\n%s", code, stderr)
	}

	installPlatform(t, cluster, cfg)
	reportApplications(t, cluster, "Synced", "Healthy", old)

	// Argo CD never gets to the pushed commit: exit 1 after the timeout,
	// every Application named with its state; each was asked to refresh.
	_, stderr, code = gen(t, dir, cluster, "sync", "--revision", pushed, "--timeout", "3s")
	if code != 1 {
		t.Errorf("sync to a commit Argo CD never reports: exit %d\n%s", code, stderr)
	}
	for _, want := range append([]string{"not Synced and Healthy at fedcba987654 after 3s", "Synced/Healthy at 0123456789ab"}, platformAppNames...) {
		if !strings.Contains(stderr, want) {
			t.Errorf("sync's error lacks %q:\n%s", want, stderr)
		}
	}
	apps := dynamic.NewForConfigOrDie(cluster.RestConfig()).Resource(applications).Namespace("argocd")
	for _, name := range platformAppNames {
		a, err := apps.Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := a.GetAnnotations()[gensync.RefreshAnnotation]; got != "hard" {
			t.Errorf("Application %s: %s=%q, want hard", name, gensync.RefreshAnnotation, got)
		}
	}

	// Argo CD reports the pushed commit a moment later: gen sync waits for
	// it (an abbreviated SHA is enough), printing progress, and succeeds.
	reportApplications(t, cluster, "OutOfSync", "Healthy", pushed)
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(3 * time.Second)
		reportApplications(t, cluster, "Synced", "Healthy", pushed)
	}()
	_, stderr, code = gen(t, dir, cluster, "sync", "--revision", pushed[:9], "--timeout", "1m")
	<-done
	if code != 0 {
		t.Fatalf("sync: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"asked Argo CD to refresh 8 Applications", "waiting", "OutOfSync/Healthy at fedcba987654", "every Application Synced and Healthy at fedcba987"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("sync's progress lacks %q:\n%s", want, stderr)
		}
	}
}

var platformAppNames = []string{"spark-platform", "argocd", "namespaces", "spark-crds", "minio", "spark-operator", "spark-jobs", "spark-history"}
