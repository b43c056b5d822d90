package budget

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/rdspark/gen/generator/config"
)

func item(name, cpu, memory string) Item {
	return Item{Name: name, CPU: resource.MustParse(cpu), Memory: resource.MustParse(memory)}
}

// The SparkPi example of gen v0.1.0 (a whole CPU each for driver and
// executor) next to the platform and k3s's pods: over the 2-CPU VM.
func TestCheckNamesTheBiggestConsumers(t *testing.T) {
	b := Budget{Environment: "rancher-desktop", Capacity: config.Capacity{CPU: "2", Memory: "4Gi"},
		Items: append(K3sSystemPods(),
			item("minio/minio", "50m", "256Mi"),
			item("example spark-pi: driver", "1", "896Mi"),
			item("example spark-pi: 1 executor(s)", "1", "896Mi"))}
	err := b.Check()
	if err == nil {
		t.Fatal("2250m of CPU fit into 2 CPUs")
	}
	for _, want := range []string{"CPU requests 2250m exceed the capacity 2000m", "biggest: example spark-pi: driver 1000m, example spark-pi: 1 executor(s) 1000m, kube-system/coredns 100m", "Preferences > Virtual Machine"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "memory requests") {
		t.Errorf("memory fits but is reported: %v", err)
	}
	b.Capacity = config.Capacity{}
	if err := b.Check(); err != nil {
		t.Errorf("an environment without capacity is checked: %v", err)
	}
}

func TestShortfallSaysWhatToRaise(t *testing.T) {
	b := Budget{Items: []Item{item("a", "900m", "2700Mi")}}
	if s := b.Shortfall(resource.MustParse("2"), resource.MustParse("3900Mi")); s != "" {
		t.Errorf("fits, but: %s", s)
	}
	s := b.Shortfall(resource.MustParse("500m"), resource.MustParse("1Gi"))
	for _, want := range []string{"CPUs by at least 1 (the pods request 900m, the nodes offer 500m)", "Memory by at least 2 GB (the pods request 2700Mi, the nodes offer 1024Mi)", "Preferences > Virtual Machine"} {
		if !strings.Contains(s, want) {
			t.Errorf("shortfall lacks %q:\n%s", want, s)
		}
	}
}
