package generator_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/sparkoperator"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// These tests hold the rules that keep the tree working on a laptop, not
// only accepted by the API server (issue 12). Each failed on the defaults of
// gen v0.1.0 before the rule and the fix landed.

func renderErr(t *testing.T, src string) error {
	t.Helper()
	cfg, err := config.Load("gen.yaml", []byte(src)) // validates
	if err != nil {
		return err
	}
	_, err = generator.Render(cfg)
	return err
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("rendered, want an error naming %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error does not name %q:\n%v", p, err)
		}
	}
}

const header = "apiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\nspec:\n"

// The operator submits every job with the spark-submit of its own image
// (Spark 4.0.4 for 2.5.2): the old default Spark 3.5.8 is refused.
func TestSparkLineMustMatchTheOperator(t *testing.T) {
	wantErr(t, renderErr(t, header+"  spark:\n    version: 3.5.8\n"),
		"spec.spark.version", "supported: 4.0.x", "Spark Operator 2.5.2", "Spark 4.0.4")
	wantErr(t, renderErr(t, header+"  sparkOperator:\n    version: 2.4.0\n"),
		"spec.sparkOperator.version", "known: 2.5.2")
	if err := renderErr(t, header+"  spark:\n    version: 4.0.1\n"); err != nil {
		t.Errorf("another 4.0 release is refused: %v", err)
	}
}

// The History Server's heap is derived from its memory limit, in the base
// and in every overlay that changes the limit; a limit too small for a
// working heap is refused.
func TestHistoryHeapFollowsTheLimit(t *testing.T) {
	cfg := upstreamtest.Config(t)
	built := buildAll(t, cfg)
	for env, want := range map[string]string{"rancher-desktop": "576m"} { // 75% of the laptop's 768Mi
		d := find(t, built[env+"/spark-history"], "Deployment", "spark-history")
		limit := get(d, "spec", "template", "spec", "containers", 0, "resources", "limits", "memory")
		var heap any
		for _, e := range get(d, "spec", "template", "spec", "containers", 0, "env").([]any) {
			if e.(map[string]any)["name"] == "SPARK_DAEMON_MEMORY" {
				heap = e.(map[string]any)["value"]
			}
		}
		if heap != want {
			t.Errorf("%s: SPARK_DAEMON_MEMORY = %v with a %v limit, want %s", env, heap, limit, want)
		}
	}
	wantErr(t, renderErr(t, header+"  environments:\n  - name: rancher-desktop\n    resources:\n      historyServer:\n        requests: {cpu: 50m, memory: 256Mi}\n        limits: {cpu: 500m, memory: 384Mi}\n"),
		"spec.environments[0].resources.historyServer.limits.memory", "288Mi heap", "at least 384Mi")
}

// The operator controller runs one spark-submit JVM per worker in its own
// container: the old laptop limit (256Mi for 10 workers) is refused, and
// each submit JVM's heap is bounded.
func TestControllerMemoryHoldsItsSubmitJVMs(t *testing.T) {
	wantErr(t, renderErr(t, header+"  sparkOperator:\n    controllerWorkers: 10\n  environments:\n  - name: rancher-desktop\n    resources:\n      sparkOperator:\n        requests: {cpu: 50m, memory: 64Mi}\n        limits: {cpu: 250m, memory: 256Mi}\n"),
		"spec.environments[0].resources.sparkOperator.limits.memory", "10 concurrent spark-submit JVMs", "2688Mi", "controllerWorkers")
	wantErr(t, renderErr(t, header+"  sparkOperator:\n    controllerWorkers: 5\n"),
		"spec.sparkOperator.resources.limits.memory", "1408Mi", "spec.environments[0].resources.sparkOperator.limits.memory")
	built := buildAll(t, upstreamtest.Config(t))
	d := find(t, built["rancher-desktop/spark-operator"], "Deployment", "spark-operator-controller")
	env := get(d, "spec", "template", "spec", "containers", 0, "env", 0).(map[string]any)
	if env["name"] != "SPARK_SUBMIT_OPTS" || env["value"] != "-Xmx128m" {
		t.Errorf("controller env = %v, want SPARK_SUBMIT_OPTS=-Xmx128m", env)
	}
}

// The default config fits Rancher Desktop's default VM with headroom; a VM
// smaller than the platform is refused at render time, naming the biggest
// consumers and the fix.
func TestLaptopBudget(t *testing.T) {
	cfg := config.Default()
	ms, err := generator.Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Complete()
	b, err := generator.Budget(cfg, ms, cfg.Spec.Environments[0])
	if err != nil {
		t.Fatal(err)
	}
	cpu, memory := b.Total()
	// Read by hand from the rendered overlay: minio 50m/256Mi, controller
	// and webhook 50m/128Mi each, History Server 50m/256Mi, coredns and
	// metrics-server 100m/70Mi each, spark-pi driver and executor
	// 250m/(512Mi + 384Mi overhead) each.
	if cpu.MilliValue() != 900 || memory.Value() != 2700<<20 {
		t.Errorf("default laptop requests = %dm CPU, %d MiB; want 900m and 2700Mi\n%s", cpu.MilliValue(), memory.Value()>>20, b.Table())
	}
	if err := b.Check(); err != nil {
		t.Errorf("the defaults do not fit the default capacity: %v", err)
	}
	wantErr(t, renderErr(t, header+"  environments:\n  - name: rancher-desktop\n    capacity: {cpu: 800m, memory: 2Gi}\n"),
		"environment rancher-desktop", "CPU requests 900m exceed the capacity 800m", "memory requests 2700Mi exceed the capacity 2048Mi",
		"example spark-pi: driver", "Preferences > Virtual Machine")
	if err := renderErr(t, header+"  environments:\n  - name: rancher-desktop\n    capacity: {cpu: 900m, memory: 2700Mi}\n"); err != nil {
		t.Errorf("requests equal to the capacity are refused: %v", err)
	}
}

// The SparkPi example of gen v0.1.0 asked for a whole CPU per pod: driver and
// executor alone took the laptop's two CPUs, and the executor stayed Pending.
func TestSparkPodRequests(t *testing.T) {
	one := int32(1)
	quarter := "250m"
	cases := []struct {
		spec      sparkoperator.SparkPodSpec
		cpu       int64
		memoryMiB int64
	}{
		{sparkoperator.SparkPodSpec{Cores: &one, Memory: "512m"}, 1000, 896},                       // 384Mi minimum overhead
		{sparkoperator.SparkPodSpec{Cores: &one, CoreRequest: &quarter, Memory: "512m"}, 250, 896}, // the example now
		{sparkoperator.SparkPodSpec{Memory: "4g"}, 1000, 4096 + 409},                               // 10% overhead
		{sparkoperator.SparkPodSpec{}, 1000, 1024 + 384},                                           // Spark's defaults
	}
	for _, tc := range cases {
		cpu, memory, err := tc.spec.PodRequests()
		if err != nil {
			t.Fatal(err)
		}
		if cpu.MilliValue() != tc.cpu || memory.Value() != tc.memoryMiB<<20 {
			t.Errorf("%+v: %dm CPU, %d MiB; want %dm, %d MiB", tc.spec, cpu.MilliValue(), memory.Value()>>20, tc.cpu, tc.memoryMiB)
		}
	}
	if _, _, err := (sparkoperator.SparkPodSpec{Memory: "lots"}).PodRequests(); err == nil {
		t.Error("a memory that is not a Spark size is accepted")
	}
}

// A pod rolls only when what it reads from the tree changes (issue 16): the
// rollout hash of each workload covers the ConfigMaps it mounts and the
// names of the Secrets it refers to, and nothing else.
func TestRolloutHashFollowsWhatThePodReads(t *testing.T) {
	hashes := func(cfg config.Platform) map[string]string {
		t.Helper()
		cfg.Complete()
		components, err := generator.Components(cfg)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, c := range components {
			for _, f := range c.Files {
				for _, o := range f.Objects {
					if d, ok := o.(*appsv1.Deployment); ok {
						out[d.Name] = d.Spec.Template.Annotations[component.RolloutAnnotation]
					}
				}
			}
		}
		return out
	}
	base := hashes(config.Default())
	if base["spark-history"] == "" || base["minio"] == "" {
		t.Fatalf("History Server and MinIO read from the tree but carry no rollout hash: %v", base)
	}
	if base["spark-operator-controller"] != "" {
		t.Errorf("the operator reads nothing from the tree, yet has a rollout hash")
	}
	cleaner := config.Default()
	cleaner.Spec.HistoryServer.Cleaner.Interval = "12h"
	renamed := config.Default()
	renamed.Spec.MinIO.CredentialsSecret = "s3-root"
	storage := config.Default()
	storage.Spec.MinIO.Storage = "50Gi"
	for name, tc := range map[string]struct {
		cfg     config.Platform
		rolling []string
	}{
		"History Server cleaner":  {cleaner, []string{"spark-history"}},
		"credentials Secret name": {renamed, []string{"minio", "spark-history"}},
		"MinIO volume size":       {storage, nil},
	} {
		got := hashes(tc.cfg)
		var rolled []string
		for _, d := range []string{"minio", "spark-history", "spark-operator-controller", "spark-operator-webhook"} {
			if got[d] != base[d] {
				rolled = append(rolled, d)
			}
		}
		if strings.Join(rolled, ",") != strings.Join(tc.rolling, ",") {
			t.Errorf("%s: rolls %v, want %v", name, rolled, tc.rolling)
		}
	}
}
