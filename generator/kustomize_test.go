package generator_test

import (
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/tree"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// buildAll renders cfg to disk and builds every folder of every overlay with
// krusty, the way Argo CD's repo-server runs kustomize. Upstream URLs point
// at a loopback server of the real release files, so the real CRDs and the
// real Argo CD install are part of the build.
func buildAll(t *testing.T, cfg config.Platform) map[string]resmap.ResMap {
	t.Helper()
	ms, err := generator.Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := tree.Write(out, generator.Roots, ms); err != nil {
		t.Fatal(err)
	}
	components, err := generator.Components(cfg)
	if err != nil {
		t.Fatal(err)
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	fs := filesys.MakeFsOnDisk()
	built := map[string]resmap.ResMap{}
	for _, env := range cfg.Spec.Environments {
		folders := []string{"apps", "root"}
		for _, c := range components {
			folders = append(folders, c.Name)
		}
		for _, folder := range folders {
			dir := filepath.Join(out, generator.OverlaysDir, env.Name, folder)
			rm, err := k.Run(fs, dir)
			if err != nil {
				t.Fatalf("kustomize build overlays/%s/%s: %v", env.Name, folder, err)
			}
			if rm.Size() == 0 {
				t.Errorf("overlays/%s/%s builds to nothing", env.Name, folder)
			}
			built[env.Name+"/"+folder] = rm
		}
	}
	return built
}

func find(t *testing.T, rm resmap.ResMap, kind, name string) map[string]any {
	t.Helper()
	for _, r := range rm.Resources() {
		if r.GetKind() == kind && r.GetName() == name {
			m, err := r.Map()
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no %s/%s in the build", kind, name)
	return nil
}

func get(m map[string]any, path ...any) any {
	var cur any = m
	for _, p := range path {
		switch k := p.(type) {
		case string:
			mm, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = mm[k]
		case int:
			list, ok := cur.([]any)
			if !ok || k >= len(list) {
				return nil
			}
			cur = list[k]
		}
	}
	return cur
}

func TestEveryOverlayBuildsWithTheRealUpstreamFiles(t *testing.T) {
	cfg := upstreamtest.Config(t)
	built := buildAll(t, cfg)

	// Argo CD: the real install, in namespace argocd, with gen's patches.
	argo := built["rancher-desktop/argocd"]
	find(t, argo, "StatefulSet", "argocd-application-controller")
	find(t, argo, "CustomResourceDefinition", "applications.argoproj.io")
	cm := find(t, argo, "ConfigMap", "argocd-cm")
	if get(cm, "metadata", "namespace") != "argocd" {
		t.Errorf("argocd-cm namespace = %v", get(cm, "metadata", "namespace"))
	}
	if !strings.Contains(get(cm, "data", "resource.customizations.health.argoproj.io_Application").(string), "obj.status.health") {
		t.Error("argocd-cm lacks the Application health check")
	}
	if get(cm, "data", "timeout.reconciliation") != "60s" {
		t.Errorf("timeout.reconciliation = %v, want the laptop's 60s", get(cm, "data", "timeout.reconciliation"))
	}
	if get(find(t, argo, "ConfigMap", "argocd-cmd-params-cm"), "data", "server.insecure") != "true" {
		t.Error("server.insecure is not set")
	}
	if get(find(t, argo, "Ingress", "argocd-server"), "spec", "rules", 0, "host") != "argocd.192.168.64.3.sslip.io" {
		t.Error("Argo CD ingress host is not patched in")
	}

	// The three Spark Operator CRDs, from the pinned release.
	crds := built["rancher-desktop/spark-crds"]
	for _, name := range []string{"sparkapplications.sparkoperator.k8s.io", "scheduledsparkapplications.sparkoperator.k8s.io", "sparkconnects.sparkoperator.k8s.io"} {
		find(t, crds, "CustomResourceDefinition", name)
	}

	// The laptop overlay patches storage class, hosts and resources.
	mio := built["rancher-desktop/minio"]
	if get(find(t, mio, "PersistentVolumeClaim", "minio-data"), "spec", "storageClassName") != "local-path" {
		t.Error("MinIO volume is not on local-path")
	}
	ing := find(t, mio, "Ingress", "minio")
	if get(ing, "spec", "rules", 0, "host") != "minio-console.192.168.64.3.sslip.io" || get(ing, "spec", "ingressClassName") != "traefik" {
		t.Errorf("MinIO ingress = %v", get(ing, "spec"))
	}
	if get(find(t, mio, "Deployment", "minio"), "spec", "template", "spec", "containers", 0, "resources", "limits", "memory") != "768Mi" {
		t.Error("laptop resources are not patched into MinIO")
	}
	if get(find(t, built["rancher-desktop/spark-history"], "Ingress", "spark-history"), "spec", "rules", 0, "host") != "spark-history.192.168.64.3.sslip.io" {
		t.Error("History Server host is not patched in")
	}

	// The app-of-apps: the project and one Application per component.
	apps := built["rancher-desktop/apps"]
	find(t, apps, "AppProject", "spark-platform")
	for _, name := range []string{"argocd", "namespaces", "spark-crds", "minio", "spark-operator", "spark-jobs", "spark-history"} {
		app := find(t, apps, "Application", name)
		if get(app, "spec", "source", "path") != "overlays/rancher-desktop/"+name {
			t.Errorf("Application %s reads %v", name, get(app, "spec", "source", "path"))
		}
	}
	root := find(t, built["rancher-desktop/root"], "Application", "spark-platform")
	if get(root, "spec", "source", "path") != "overlays/rancher-desktop/apps" {
		t.Errorf("root Application reads %v", get(root, "spec", "source", "path"))
	}
}

func TestSecondEnvironmentBuilds(t *testing.T) {
	argo, spark := upstreamtest.Serve(t)
	cfg, err := config.Load("two-environments", []byte(goldenConfigs["two-environments"]))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Spec.ArgoCD.ManifestsBaseURL, cfg.Spec.SparkOperator.CRDBaseURL = argo, spark
	built := buildAll(t, cfg)

	cluster := built["cluster/minio"]
	pvc := find(t, cluster, "PersistentVolumeClaim", "minio-data")
	if _, set := pvc["spec"].(map[string]any)["storageClassName"]; set {
		t.Error("the cluster environment should use the default storage class")
	}
	if get(find(t, cluster, "Ingress", "minio"), "spec", "ingressClassName") != "nginx" {
		t.Error("cluster ingress class is not nginx")
	}
	if get(find(t, built["cluster/argocd"], "ConfigMap", "argocd-cm"), "data", "timeout.reconciliation") != "3m" {
		t.Error("cluster reconciliation timeout is not 3m")
	}
	app := find(t, built["cluster/apps"], "Application", "minio")
	if get(app, "spec", "source", "path") != "platform/spark/overlays/cluster/minio" || get(app, "spec", "source", "repoURL") != "git@github.com:acme/data-platform.git" {
		t.Errorf("cluster minio Application source = %v", get(app, "spec", "source"))
	}
	for _, r := range built["cluster/spark-operator"].Resources() {
		if strings.Contains(r.GetKind(), "WebhookConfiguration") || r.GetName() == "spark-operator-webhook" {
			t.Errorf("webhook is off but %s/%s is rendered", r.GetKind(), r.GetName())
		}
	}
}
