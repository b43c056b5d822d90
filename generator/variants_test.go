package generator_test

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// loadUpstream loads a golden config and points its upstream URLs at the
// loopback server of the real release files.
func loadUpstream(t *testing.T, name string) config.Platform {
	t.Helper()
	argo, spark := upstreamtest.Serve(t)
	cfg := load(t, name)
	cfg.Spec.ArgoCD.ManifestsBaseURL, cfg.Spec.SparkOperator.CRDBaseURL = argo, spark
	return cfg
}

// images collects the value of every "image" key at any depth of obj
// (containers, init containers, SparkApplication specs).
func images(obj any, out map[string]bool) {
	switch t := obj.(type) {
	case map[string]any:
		for k, v := range t {
			if s, ok := v.(string); ok && k == "image" {
				out[s] = true
			}
			images(v, out)
		}
	case []any:
		for _, v := range t {
			images(v, out)
		}
	}
}

// TestRegistryMirrorRewritesEveryImage: with spec.images.registryMirror set,
// every image a pod of the tree pulls comes from the mirror: gen's own
// workloads with either in-cluster store, the upstream Argo CD install
// (through the kustomize images transformer), the examples' Spark image, and
// the Dockerfile's base image. An image that escapes the mirror would stop an
// air-gapped install.
func TestRegistryMirrorRewritesEveryImage(t *testing.T) {
	const mirror = "registry.acme.internal/mirror"
	for _, store := range []string{config.ObjectStoreMinIO, config.ObjectStoreSeaweedFS} {
		t.Run(store, func(t *testing.T) {
			cfg := loadUpstream(t, "default")
			cfg.Spec.Images.RegistryMirror = mirror
			cfg.Spec.ObjectStore.Type = store
			cfg.Spec.Tenants = []config.Tenant{{Name: "team-a"}}
			cfg.Complete()
			found := map[string]bool{}
			for folder, rm := range buildAll(t, cfg) {
				for _, r := range rm.Resources() {
					m, err := r.Map()
					if err != nil {
						t.Fatalf("%s: %v", folder, err)
					}
					images(m, found)
				}
			}
			ms, err := generator.Render(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				switch {
				case strings.HasPrefix(m.Path, generator.ExamplesDir+"/"):
					var obj map[string]any
					if err := yaml.Unmarshal(m.Content, &obj); err != nil {
						t.Fatal(err)
					}
					images(obj, found)
				case m.Path == image.DockerfilePath:
					sc := bufio.NewScanner(bytes.NewReader(m.Content))
					for sc.Scan() {
						if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "FROM" {
							found[f[1]] = true
						}
					}
				}
			}
			var all []string
			for img := range found {
				all = append(all, img)
				if !strings.HasPrefix(img, mirror+"/") {
					t.Errorf("image %s does not come from the mirror %s", img, mirror)
				}
			}
			sort.Strings(all)
			// The tree pulls Argo CD (3 images), the store, the operator, Spark: at least 6.
			if len(all) < 6 {
				t.Errorf("only %d images found: %v", len(all), all)
			}
			t.Logf("%d images, all from the mirror: %s", len(all), strings.Join(all, " "))
		})
	}
}

// TestClusterExampleBuilds: configs/cluster.yaml (external S3, TLS,
// replicas, tenants) builds with the real upstream files, and the built
// objects say what the config says.
func TestClusterExampleBuilds(t *testing.T) {
	cfg := loadUpstream(t, "cluster")
	built := buildAll(t, cfg)
	if _, ok := built["cluster/minio"]; ok {
		t.Error("an external store renders no MinIO")
	}
	ing := find(t, built["cluster/spark-history"], "Ingress", "spark-history")
	if get(ing, "spec", "tls", 0, "secretName") != "spark-history-tls" || get(ing, "spec", "tls", 0, "hosts", 0) != "spark-history.spark.acme.example" {
		t.Errorf("History Server Ingress TLS = %v", get(ing, "spec", "tls"))
	}
	if get(ing, "metadata", "annotations", "cert-manager.io/cluster-issuer") != "letsencrypt" {
		t.Errorf("History Server Ingress annotations = %v", get(ing, "metadata", "annotations"))
	}
	argoIng := find(t, built["cluster/argocd"], "Ingress", "argocd-server")
	if get(argoIng, "spec", "tls", 0, "secretName") != "argocd-server-tls" {
		t.Errorf("Argo CD Ingress TLS = %v", get(argoIng, "spec", "tls"))
	}
	for _, name := range []string{"spark-operator-controller", "spark-operator-webhook"} {
		if r := get(find(t, built["cluster/spark-operator"], "Deployment", name), "spec", "replicas"); fmt.Sprint(r) != "2" {
			t.Errorf("%s replicas = %v, want 2", name, r)
		}
	}
	if r := get(find(t, built["cluster/spark-history"], "Deployment", "spark-history"), "spec", "replicas"); fmt.Sprint(r) != "2" {
		t.Errorf("History Server replicas = %v, want 2", r)
	}
	conf := get(find(t, built["cluster/spark-history"], "ConfigMap", "spark-history"), "data", "spark-defaults.conf").(string)
	for _, want := range []string{
		"spark.hadoop.fs.s3a.endpoint https://s3.eu-central-1.amazonaws.com\n",
		"spark.hadoop.fs.s3a.endpoint.region eu-central-1\n",
		"spark.hadoop.fs.s3a.connection.ssl.enabled true\n",
		"spark.hadoop.fs.s3a.path.style.access false\n",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("spark-defaults.conf lacks %q", want)
		}
	}
	// Tenants join the operator's job namespaces.
	ctrl := find(t, built["cluster/spark-operator"], "Deployment", "spark-operator-controller")
	args := fmt.Sprint(get(ctrl, "spec", "template", "spec", "containers", 0, "args"))
	if !strings.Contains(args, "--namespaces=spark-jobs,analytics,data-eng") {
		t.Errorf("controller args %s lack the tenant namespaces", args)
	}
	tenants := built["cluster/tenants"]
	find(t, tenants, "ResourceQuota", "spark-tenant")
	find(t, tenants, "AppProject", "tenant-analytics")
	find(t, tenants, "AppProject", "tenant-data-eng")
}

// TestSeaweedFSFollowsThroughTheTree: one config value switches the store;
// the bucket Job, the S3A settings of the History Server and of the
// examples, and the tenants' NetworkPolicy follow.
func TestSeaweedFSFollowsThroughTheTree(t *testing.T) {
	cfg := loadUpstream(t, "seaweedfs-tenants")
	built := buildAll(t, cfg)
	if _, ok := built["rancher-desktop/minio"]; ok {
		t.Error("SeaweedFS selected, but MinIO is rendered too")
	}
	sw := built["rancher-desktop/seaweedfs"]
	if get(find(t, sw, "PersistentVolumeClaim", "seaweedfs-data"), "spec", "storageClassName") != "local-path" {
		t.Error("SeaweedFS volume is not on local-path")
	}
	var job map[string]any
	for _, r := range sw.Resources() {
		if r.GetKind() == "Job" && strings.HasPrefix(r.GetName(), "seaweedfs-bucket-") {
			job, _ = r.Map()
		}
	}
	if job == nil {
		t.Fatal("no bucket Job")
	}
	script := fmt.Sprint(get(job, "spec", "template", "spec", "containers", 0, "command", 2))
	for _, want := range []string{"s3.bucket.create -name spark", "weed filer.copy /tmp/.keep \"http://seaweedfs.minio.svc.cluster.local:8888/buckets/spark/spark-events/\""} {
		if !strings.Contains(script, want) {
			t.Errorf("bucket Job script lacks %q:\n%s", want, script)
		}
	}
	conf := get(find(t, built["rancher-desktop/spark-history"], "ConfigMap", "spark-history"), "data", "spark-defaults.conf").(string)
	if !strings.Contains(conf, "spark.hadoop.fs.s3a.endpoint http://seaweedfs.minio.svc.cluster.local:8333\n") {
		t.Errorf("History Server does not read SeaweedFS:\n%s", conf)
	}
	np := find(t, built["rancher-desktop/tenants"], "NetworkPolicy", "spark")
	if !strings.Contains(fmt.Sprint(get(np, "spec", "egress")), "seaweedfs") {
		t.Errorf("tenant egress does not allow SeaweedFS: %v", get(np, "spec", "egress"))
	}
	storePolicy := fmt.Sprint(get(find(t, sw, "NetworkPolicy", "seaweedfs"), "spec", "ingress", 0, "from"))
	for _, ns := range []string{"spark-jobs", "team-a", "team-b", "spark-history"} {
		if !strings.Contains(storePolicy, ns) {
			t.Errorf("SeaweedFS NetworkPolicy does not admit %s: %s", ns, storePolicy)
		}
	}
}
