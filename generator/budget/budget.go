package budget

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/rdspark/gen/generator/config"
)

// Item is one consumer: a pod (times its replicas) or a group of pods.
type Item struct {
	// Name says what it is, like "spark-history/spark-history" or
	// "example spark-pi: driver".
	Name   string
	CPU    resource.Quantity
	Memory resource.Quantity
}

// K3sSystemPods are the pods k3s runs in kube-system on every Rancher Desktop
// cluster, with their requests: coredns (k3s manifests/coredns.yaml: cpu
// 100m, memory 70Mi) and metrics-server (k3s
// manifests/metrics-server/metrics-server-deployment.yaml: cpu 100m, memory
// 70Mi). Traefik (k3s's HelmChart, chart default resources {}), the
// local-path-provisioner and the svclb pods request nothing.
func K3sSystemPods() []Item {
	return []Item{
		{Name: "kube-system/coredns", CPU: resource.MustParse("100m"), Memory: resource.MustParse("70Mi")},
		{Name: "kube-system/metrics-server", CPU: resource.MustParse("100m"), Memory: resource.MustParse("70Mi")},
	}
}

// PodRequests is what the scheduler reserves for a pod: the sum of its
// containers' requests, or its largest init container's if that is more
// (pod overhead and sidecar init containers aside: gen renders neither).
func PodRequests(spec corev1.PodSpec) (cpu, memory resource.Quantity) {
	for _, c := range spec.Containers {
		cpu.Add(*c.Resources.Requests.Cpu())
		memory.Add(*c.Resources.Requests.Memory())
	}
	for _, c := range spec.InitContainers {
		if r := c.Resources.Requests.Cpu(); r.Cmp(cpu) > 0 {
			cpu = r.DeepCopy()
		}
		if r := c.Resources.Requests.Memory(); r.Cmp(memory) > 0 {
			memory = r.DeepCopy()
		}
	}
	return cpu, memory
}

// Budget is an environment's requests against its capacity.
type Budget struct {
	Environment string
	Capacity    config.Capacity
	Items       []Item
}

// Total is the sum of every item's requests.
func (b Budget) Total() (cpu, memory resource.Quantity) {
	cpu, memory = resource.Quantity{Format: resource.DecimalSI}, resource.Quantity{Format: resource.BinarySI}
	for _, it := range b.Items {
		cpu.Add(it.CPU)
		memory.Add(it.Memory)
	}
	return cpu, memory
}

// Checked is true when the environment has a capacity to compare with.
func (b Budget) Checked() bool { return b.Capacity.CPU != "" || b.Capacity.Memory != "" }

// Check fails when the requests exceed the capacity, naming the three
// biggest consumers of each resource that does not fit and the fix.
func (b Budget) Check() error {
	cpu, memory := b.Total()
	var problems []string
	if over, capacity := exceeds(cpu, b.Capacity.CPU); over {
		problems = append(problems, fmt.Sprintf("CPU requests %s exceed the capacity %s; biggest: %s", CPU(cpu), CPU(capacity), b.biggest(func(it Item) resource.Quantity { return it.CPU }, CPU)))
	}
	if over, capacity := exceeds(memory, b.Capacity.Memory); over {
		problems = append(problems, fmt.Sprintf("memory requests %s exceed the capacity %s; biggest: %s", Memory(memory), Memory(capacity), b.biggest(func(it Item) resource.Quantity { return it.Memory }, Memory)))
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("the pods do not fit environment %s: %s (the scheduler would leave pods Pending); lower the requests in spec.environments[].resources, or raise spec.environments[].capacity to what the nodes offer (Rancher Desktop: Preferences > Virtual Machine)",
		b.Environment, strings.Join(problems, "; "))
}

// Summary is one line: requests against capacity.
func (b Budget) Summary() string {
	cpu, memory := b.Total()
	capCPU, capMemory := "unchecked", "unchecked"
	if b.Capacity.CPU != "" {
		capCPU = string(b.Capacity.CPU)
	}
	if b.Capacity.Memory != "" {
		capMemory = string(b.Capacity.Memory)
	}
	return fmt.Sprintf("%s: requests %s of %s CPU, %s of %s memory (platform, k3s system pods and one example SparkApplication)",
		b.Environment, CPU(cpu), capCPU, Memory(memory), capMemory)
}

// Table lists every item and the total, for the README and gen render -v.
func (b Budget) Table() string {
	var s strings.Builder
	fmt.Fprintf(&s, "| pod | CPU request | memory request |\n|---|---|---|\n")
	for _, it := range b.Items {
		fmt.Fprintf(&s, "| %s | %s | %s |\n", it.Name, CPU(it.CPU), Memory(it.Memory))
	}
	cpu, memory := b.Total()
	fmt.Fprintf(&s, "| **total** | **%s** | **%s** |\n", CPU(cpu), Memory(memory))
	if b.Checked() {
		fmt.Fprintf(&s, "| capacity (%s) | %s | %s |\n", b.Environment, b.Capacity.CPU, b.Capacity.Memory)
	}
	return s.String()
}

func exceeds(total resource.Quantity, capacity config.Quantity) (bool, resource.Quantity) {
	if capacity == "" {
		return false, resource.Quantity{}
	}
	c, err := resource.ParseQuantity(string(capacity))
	if err != nil {
		return false, resource.Quantity{}
	}
	return total.Cmp(c) > 0, c
}

func (b Budget) biggest(of func(Item) resource.Quantity, format func(resource.Quantity) string) string {
	items := append([]Item(nil), b.Items...)
	sort.SliceStable(items, func(i, j int) bool { a, b := of(items[i]), of(items[j]); return a.Cmp(b) > 0 })
	var out []string
	for i, it := range items {
		if i == 3 {
			break
		}
		out = append(out, it.Name+" "+format(of(it)))
	}
	return strings.Join(out, ", ")
}

// CPU prints a CPU quantity in millicores ("1250m").
func CPU(q resource.Quantity) string { return fmt.Sprintf("%dm", q.MilliValue()) }

// Memory prints a memory quantity in MiB ("2700Mi").
func Memory(q resource.Quantity) string { return fmt.Sprintf("%dMi", (q.Value()+(1<<20)-1)>>20) }

// Shortfall compares the budget with what the cluster's nodes really offer
// (the sum of their allocatable CPU and memory) and says what to raise, or
// returns "" when the requests fit. The laptop may be smaller than the
// config's capacity says.
func (b Budget) Shortfall(allocatableCPU, allocatableMemory resource.Quantity) string {
	cpu, memory := b.Total()
	var short []string
	if cpu.Cmp(allocatableCPU) > 0 {
		missing := cpu.DeepCopy()
		missing.Sub(allocatableCPU)
		short = append(short, fmt.Sprintf("CPUs by at least %d (the pods request %s, the nodes offer %s)",
			(missing.MilliValue()+999)/1000, CPU(cpu), CPU(allocatableCPU)))
	}
	if memory.Cmp(allocatableMemory) > 0 {
		missing := memory.DeepCopy()
		missing.Sub(allocatableMemory)
		short = append(short, fmt.Sprintf("Memory by at least %d GB (the pods request %s, the nodes offer %s)",
			(missing.Value()+(1<<30)-1)>>30, Memory(memory), Memory(allocatableMemory)))
	}
	if len(short) == 0 {
		return ""
	}
	return fmt.Sprintf("the platform does not fit the cluster: pods would stay Pending. Raise Rancher Desktop's Preferences > Virtual Machine > %s, or lower the requests in gen.yaml",
		strings.Join(short, ", and "))
}

// NodesShortfall is Shortfall against the sum of the nodes' allocatable CPU
// and memory.
func (b Budget) NodesShortfall(nodes []corev1.Node) string {
	var cpu, memory resource.Quantity
	for _, n := range nodes {
		cpu.Add(*n.Status.Allocatable.Cpu())
		memory.Add(*n.Status.Allocatable.Memory())
	}
	return b.Shortfall(cpu, memory)
}
