//go:build linux

package testnode

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"

	"github.com/rdspark/gen/generator/budget"
	"github.com/rdspark/gen/generator/config"
)

// Facts of a Rancher Desktop node that the config does not carry, because
// gen's budget does not check them. The scheduler does: a pod that requests
// ephemeral storage fits only on a node that reports some.
const (
	// DefaultNodeName is the node name Rancher Desktop's k3s registers.
	DefaultNodeName = "lima-rancher-desktop"
	// defaultEphemeralStorage is Rancher Desktop's VM disk (100 GiB by
	// default); the pods of the platform request a few hundred MiB of it.
	defaultEphemeralStorage = "100Gi"
	// defaultMaxPods is the kubelet's --max-pods default, which k3s keeps.
	defaultMaxPods = "110"

	// LocalPathStorageClass and LocalPathProvisioner are k3s's default
	// StorageClass and its provisioner (the local-path-provisioner it ships
	// in manifests/local-storage.yaml, volumeBindingMode WaitForFirstConsumer).
	LocalPathStorageClass = "local-path"
	LocalPathProvisioner  = "rancher.io/local-path"

	// Annotations of the volume binding handshake: the scheduler names the
	// node it chose for a WaitForFirstConsumer claim, the PV controller names
	// the provisioner that is to create its volume.
	annSelectedNode       = "volume.kubernetes.io/selected-node"
	annStorageProvisioner = "volume.kubernetes.io/storage-provisioner"
	annProvisionedBy      = "pv.kubernetes.io/provisioned-by"

	// TraefikIngressClass and TraefikController are the IngressClass k3s's
	// bundled Traefik chart registers (release name traefik; the chart's
	// IngressClass template names the controller traefik.io/ingress-controller
	// and makes it the default class, ingressClass.isDefaultClass: true).
	TraefikIngressClass = "traefik"
	TraefikController   = "traefik.io/ingress-controller"

	// podCIDRPrefix is k3s's default cluster CIDR (10.42.0.0/16): pod IPs
	// look like a k3s node's.
	podCIDRPrefix = "10.42.0."
)

// KubeletOptions size the node.
type KubeletOptions struct {
	// Name of the Node; DefaultNodeName when empty.
	Name string
	// Capacity is the node's CPU and memory, both capacity and allocatable
	// (k3s reserves nothing by default). Both fields must be set.
	Capacity config.Capacity
	// SystemPods run on the node before anything else, bound to it
	// directly, with these names (namespace/name) and requests; nil means
	// budget.K3sSystemPods(). Running them as pods makes the scheduler count
	// them the way it counts coredns and metrics-server on k3s.
	SystemPods []budget.Item
}

// Kubelet plays the kubelet (and k3s's local-path provisioner and Traefik) of one node
// in a cluster where the real kube-scheduler binds pods and the real
// kube-controller-manager runs the workload controllers. It
//
//   - registers a Node with the given capacity as capacity and allocatable,
//     condition Ready, and takes off the node.kubernetes.io/not-ready taint
//     that kube-apiserver's TaintNodesByCondition admission puts on every new
//     Node (the node-lifecycle controller's part, which is not run: it
//     would need the kubelet's heartbeats);
//   - runs k3s's system pods on it, bound directly, so they use up their
//     requests as on k3s;
//   - reports every pod the scheduler binds to it (spec.nodeName = its name)
//     as started: init containers terminated with exit code 0, containers
//     running and ready, conditions PodReadyToStartContainers, Initialized,
//     ContainersReady and Ready, a host IP and a pod IP. A pod owned by a Job
//     instead succeeds (its containers terminated with exit code 0), so the
//     job controller completes the Job;
//   - deletes its pods that are being deleted at once (a container runtime
//     would stop them first);
//   - provisions a PersistentVolume for a claim of the local-path class once
//     the scheduler has chosen this node for it and the PV controller has
//     asked rancher.io/local-path for a volume, so volume binding completes
//     as on k3s (the real PV controller binds the claim);
//   - gives every Ingress the node's address (127.0.0.1), as k3s's Traefik
//     does.
//
// A pod bound to no node is never touched: the scheduler's verdict stands.
// Nothing is executed: images are not pulled, probes are not run, volumes
// and Secrets a pod references are not checked (a real kubelet would fail a
// pod whose Secret is missing; this one does not).
type Kubelet struct {
	name string
	cs   kubernetes.Interface

	pods      cache.Indexer
	pvcs      cache.Indexer
	ingresses cache.Indexer
	queue     workqueue.TypedRateLimitingInterface[kubeletKey]

	mu     sync.Mutex
	nextIP int
	podIPs map[string]string // pod UID -> IP, stable across syncs
}

type kubeletKey struct {
	kind string // "Pod", "PersistentVolumeClaim" or "Ingress"
	key  string // namespace/name
}

// StartKubelet registers the node, starts its system pods and plays its
// kubelet until the test ends. It returns once the node is Ready and
// schedulable and the system pods run.
func StartKubelet(t testing.TB, cs kubernetes.Interface, opts KubeletOptions) *Kubelet {
	t.Helper()
	if opts.Name == "" {
		opts.Name = DefaultNodeName
	}
	if opts.SystemPods == nil {
		opts.SystemPods = budget.K3sSystemPods()
	}
	cpu, err := resource.ParseQuantity(string(opts.Capacity.CPU))
	if err != nil {
		t.Fatalf("kubelet: capacity cpu %q: %v", opts.Capacity.CPU, err)
	}
	memory, err := resource.ParseQuantity(string(opts.Capacity.Memory))
	if err != nil {
		t.Fatalf("kubelet: capacity memory %q: %v", opts.Capacity.Memory, err)
	}
	k := &Kubelet{
		name:   opts.Name,
		cs:     cs,
		podIPs: map[string]string{},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[kubeletKey](),
			workqueue.TypedRateLimitingQueueConfig[kubeletKey]{Name: "kubelet"}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	// The queue and informers are stopped by the cleanup of whatever got
	// started, also when a step below fails the test.
	done := make(chan struct{})
	var factories []informers.SharedInformerFactory
	running := false // the worker goroutine was started and closes done
	t.Cleanup(func() {
		cancel()
		k.queue.ShutDown()
		for _, f := range factories {
			f.Shutdown()
		}
		if running {
			<-done
		}
	})

	if err := k.ensureStorageClass(ctx); err != nil {
		t.Fatalf("kubelet: %v", err)
	}
	if err := k.ensureIngressClass(ctx); err != nil {
		t.Fatalf("kubelet: %v", err)
	}
	if err := k.register(ctx, cpu, memory); err != nil {
		t.Fatalf("kubelet: register node %s: %v", k.name, err)
	}

	// Like the kubelet, watch only the pods bound to this node.
	podFactory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", k.name).String()
	}))
	factory := informers.NewSharedInformerFactory(cs, 0)
	factories = []informers.SharedInformerFactory{podFactory, factory}
	watch := func(kind string, inf cache.SharedIndexInformer) cache.Indexer {
		enqueue := func(obj any) {
			if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
				k.queue.Add(kubeletKey{kind, key})
			}
		}
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    enqueue,
			UpdateFunc: func(_, obj any) { enqueue(obj) },
		}); err != nil {
			t.Fatal(err)
		}
		return inf.GetIndexer()
	}
	k.pods = watch("Pod", podFactory.Core().V1().Pods().Informer())
	k.pvcs = watch("PersistentVolumeClaim", factory.Core().V1().PersistentVolumeClaims().Informer())
	k.ingresses = watch("Ingress", factory.Networking().V1().Ingresses().Informer())
	podFactory.Start(ctx.Done())
	factory.Start(ctx.Done())
	running = true
	go func() {
		defer close(done)
		for k.processNext(ctx, t) {
		}
	}()
	for _, f := range factories {
		for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
			if !ok {
				t.Fatalf("kubelet: informer for %v did not sync", typ)
			}
		}
	}

	if err := k.startSystemPods(ctx, opts.SystemPods); err != nil {
		t.Fatalf("kubelet: %v", err)
	}
	return k
}

// Name is the Node's name.
func (k *Kubelet) Name() string { return k.name }

// ensureStorageClass creates k3s's default StorageClass, so that claims of
// class local-path wait for their first consumer as on k3s.
func (k *Kubelet) ensureStorageClass(ctx context.Context) error {
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        LocalPathStorageClass,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"},
		},
		Provisioner:       LocalPathProvisioner,
		ReclaimPolicy:     ptr.To(corev1.PersistentVolumeReclaimDelete),
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer),
	}
	_, err := k.cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create StorageClass %s: %w", sc.Name, err)
	}
	return nil
}

// ensureIngressClass creates the IngressClass that k3s's Traefik chart
// installs, so that Ingresses of class traefik (gen's rancher-desktop
// default) name one that exists, as gen bootstrap's preflight checks.
func (k *Kubelet) ensureIngressClass(ctx context.Context) error {
	ic := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        TraefikIngressClass,
			Annotations: map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"},
		},
		Spec: networkingv1.IngressClassSpec{Controller: TraefikController},
	}
	_, err := k.cs.NetworkingV1().IngressClasses().Create(ctx, ic, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create IngressClass %s: %w", ic.Name, err)
	}
	return nil
}

func (k *Kubelet) register(ctx context.Context, cpu, memory resource.Quantity) error {
	resources := corev1.ResourceList{
		corev1.ResourceCPU:              cpu,
		corev1.ResourceMemory:           memory,
		corev1.ResourcePods:             resource.MustParse(defaultMaxPods),
		corev1.ResourceEphemeralStorage: resource.MustParse(defaultEphemeralStorage),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: k.name,
			Labels: map[string]string{
				corev1.LabelHostname:   k.name,
				corev1.LabelOSStable:   "linux",
				corev1.LabelArchStable: "amd64",
				// k3s's single server is also its control plane.
				"node-role.kubernetes.io/control-plane": "true",
			},
		},
	}
	created, err := k.cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	now := metav1.Now()
	created.Status = corev1.NodeStatus{
		Capacity:    resources,
		Allocatable: resources,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now},
			{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", LastHeartbeatTime: now, LastTransitionTime: now},
			{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", LastHeartbeatTime: now, LastTransitionTime: now},
			{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", LastHeartbeatTime: now, LastTransitionTime: now},
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: "127.0.0.1"},
			{Type: corev1.NodeHostName, Address: k.name},
		},
		NodeInfo: corev1.NodeSystemInfo{
			OperatingSystem: "linux", Architecture: "amd64",
			KubeletVersion: "v1.35.4+k3s1", ContainerRuntimeVersion: "containerd://fake",
		},
	}
	updated, err := k.cs.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("report status: %w", err)
	}
	// The admission plugin tainted the new Node not-ready; the node-lifecycle
	// controller would lift the taint once the node reports Ready.
	updated.Spec.Taints = slices.DeleteFunc(updated.Spec.Taints, func(t corev1.Taint) bool {
		return t.Key == corev1.TaintNodeNotReady
	})
	if _, err := k.cs.CoreV1().Nodes().Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("lift the %s taint: %w", corev1.TaintNodeNotReady, err)
	}
	return nil
}

// startSystemPods creates k3s's system pods bound to the node and waits
// until they run, so that everything created afterwards is scheduled
// against what they leave.
func (k *Kubelet) startSystemPods(ctx context.Context, items []budget.Item) error {
	for _, it := range items {
		ns, name, ok := strings.Cut(it.Name, "/")
		if !ok {
			return fmt.Errorf("system pod %q is not namespace/name", it.Name)
		}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"k8s-app": name}},
			Spec: corev1.PodSpec{
				NodeName: k.name,
				// kube-system's default ServiceAccount may not exist yet
				// (the serviceaccount controller makes it); the pod needs
				// no API access.
				AutomountServiceAccountToken: ptr.To(false),
				PriorityClassName:            "system-cluster-critical",
				Containers: []corev1.Container{{
					Name:  name,
					Image: "rancher/mirrored-" + name + ":k3s",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: it.CPU, corev1.ResourceMemory: it.Memory,
					}},
				}},
			},
		}
		// The ServiceAccount admission plugin refuses pods until the
		// serviceaccount controller has made the namespace's default
		// ServiceAccount, even with automounting off.
		err := retry(ctx, 30*time.Second, func() error {
			_, err := k.cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				return nil
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("create system pod %s: %w", it.Name, err)
		}
	}
	for _, it := range items {
		ns, name, _ := strings.Cut(it.Name, "/")
		err := retry(ctx, 30*time.Second, func() error {
			p, err := k.cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !PodReady(p) {
				return fmt.Errorf("not Ready: phase %s", p.Status.Phase)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("system pod %s: %w", it.Name, err)
		}
	}
	return nil
}

func retry(ctx context.Context, timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (k *Kubelet) processNext(ctx context.Context, t testing.TB) bool {
	key, quit := k.queue.Get()
	if quit {
		return false
	}
	defer k.queue.Done(key)
	var err error
	switch key.kind {
	case "Pod":
		err = k.syncPod(ctx, key.key)
	case "Ingress":
		err = k.syncIngress(ctx, key.key)
	default:
		err = k.syncClaim(ctx, key.key)
	}
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			t.Logf("kubelet: %s %s: %v (retrying)", key.kind, key.key, err)
		}
		k.queue.AddRateLimited(key)
		return true
	}
	k.queue.Forget(key)
	return true
}

func (k *Kubelet) syncPod(ctx context.Context, key string) error {
	obj, exists, err := k.pods.GetByKey(key)
	if err != nil || !exists {
		return err
	}
	pod := obj.(*corev1.Pod)
	if pod.Spec.NodeName != k.name {
		return nil
	}
	if pod.DeletionTimestamp != nil {
		// Nothing to stop: confirm the deletion, as the kubelet does once
		// the containers are gone.
		err := k.cs.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: ptr.To[int64](0),
			Preconditions:      &metav1.Preconditions{UID: &pod.UID},
		})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil
		}
		return err
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return nil // terminal phases are final
	}
	if pod.Status.Phase == corev1.PodRunning && PodReady(pod) {
		return nil // already reported; the status stays as it is
	}
	want := pod.DeepCopy()
	k.started(want)
	_, err = k.cs.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, want, metav1.UpdateOptions{})
	return err
}

// started writes the status a kubelet reports once the pod's containers have
// started (or, for a Job's pod, finished).
func (k *Kubelet) started(pod *corev1.Pod) {
	now := metav1.Now()
	succeeds := ownedByJob(pod)
	pod.Status.HostIP = "127.0.0.1"
	pod.Status.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
	if pod.Spec.HostNetwork {
		pod.Status.PodIP = "127.0.0.1"
	} else {
		pod.Status.PodIP = k.podIP(string(pod.UID))
	}
	pod.Status.PodIPs = []corev1.PodIP{{IP: pod.Status.PodIP}}
	if pod.Status.StartTime == nil {
		pod.Status.StartTime = &now
	}
	pod.Status.InitContainerStatuses = nil
	for _, c := range pod.Spec.InitContainers {
		pod.Status.InitContainerStatuses = append(pod.Status.InitContainerStatuses, terminated(pod, c, now))
	}
	pod.Status.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		if succeeds {
			pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, terminated(pod, c, now))
			continue
		}
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: imageID(c.Image), ContainerID: containerID(pod, c.Name),
			State:   corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
			Ready:   true,
			Started: ptr.To(true),
		})
	}
	ready := corev1.ConditionTrue
	reason := ""
	pod.Status.Phase = corev1.PodRunning
	if succeeds {
		// A finished pod is not ready (its containers are gone), as the
		// kubelet reports it.
		pod.Status.Phase = corev1.PodSucceeded
		ready, reason = corev1.ConditionFalse, "PodCompleted"
	}
	setPodCondition(pod, corev1.PodCondition{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue, LastTransitionTime: now})
	setPodCondition(pod, corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, Reason: reason, LastTransitionTime: now})
	setPodCondition(pod, corev1.PodCondition{Type: corev1.ContainersReady, Status: ready, Reason: reason, LastTransitionTime: now})
	setPodCondition(pod, corev1.PodCondition{Type: corev1.PodReady, Status: ready, Reason: reason, LastTransitionTime: now})
}

func terminated(pod *corev1.Pod, c corev1.Container, now metav1.Time) corev1.ContainerStatus {
	id := containerID(pod, c.Name)
	return corev1.ContainerStatus{
		Name: c.Name, Image: c.Image, ImageID: imageID(c.Image), ContainerID: id,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now, ContainerID: id,
		}},
		Started: ptr.To(false),
	}
}

func imageID(image string) string { return "docker.io/fake/" + image }

func containerID(pod *corev1.Pod, container string) string {
	return "containerd://" + string(pod.UID) + "-" + container
}

func ownedByJob(pod *corev1.Pod) bool {
	for _, o := range pod.OwnerReferences {
		if o.Kind == "Job" && ptr.Deref(o.Controller, false) {
			return true
		}
	}
	return false
}

func (k *Kubelet) podIP(uid string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if ip, ok := k.podIPs[uid]; ok {
		return ip
	}
	k.nextIP++
	// 10.42.0.1 is the node's own bridge address on k3s; 253 pods per
	// test is far more than any test runs.
	ip := fmt.Sprintf("%s%d", podCIDRPrefix, 1+k.nextIP%253)
	k.podIPs[uid] = ip
	return ip
}

// setPodCondition keeps an existing condition's transition time when its
// status does not change.
func setPodCondition(pod *corev1.Pod, c corev1.PodCondition) {
	for i, old := range pod.Status.Conditions {
		if old.Type == c.Type {
			if old.Status == c.Status {
				c.LastTransitionTime = old.LastTransitionTime
			}
			pod.Status.Conditions[i] = c
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, c)
}

// syncClaim plays the local-path provisioner: a claim of its class that the
// scheduler placed on this node and the PV controller handed to
// rancher.io/local-path gets a node-local PersistentVolume pre-bound to it.
func (k *Kubelet) syncClaim(ctx context.Context, key string) error {
	obj, exists, err := k.pvcs.GetByKey(key)
	if err != nil || !exists {
		return err
	}
	pvc := obj.(*corev1.PersistentVolumeClaim)
	if pvc.Spec.VolumeName != "" || pvc.DeletionTimestamp != nil ||
		ptr.Deref(pvc.Spec.StorageClassName, "") != LocalPathStorageClass ||
		pvc.Annotations[annSelectedNode] != k.name ||
		pvc.Annotations[annStorageProvisioner] != LocalPathProvisioner {
		return nil
	}
	name := "pvc-" + string(pvc.UID)
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{annProvisionedBy: LocalPathProvisioner},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: *pvc.Spec.Resources.Requests.Storage()},
			AccessModes:                   pvc.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              LocalPathStorageClass,
			VolumeMode:                    pvc.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID, ResourceVersion: pvc.ResourceVersion,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
				// Where k3s's provisioner puts volumes; nothing is created.
				Path: "/var/lib/rancher/k3s/storage/" + name + "_" + pvc.Namespace + "_" + pvc.Name,
				Type: ptr.To(corev1.HostPathDirectoryOrCreate),
			}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{k.name},
				}}}},
			}},
		},
	}
	_, err = k.cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// syncIngress plays Traefik, which k3s (and so Rancher Desktop) runs by
// default behind its service load balancer: every Ingress gets the node's
// address in its status, which Argo CD's health check for Ingresses waits
// for.
func (k *Kubelet) syncIngress(ctx context.Context, key string) error {
	obj, exists, err := k.ingresses.GetByKey(key)
	if err != nil || !exists {
		return err
	}
	ing := obj.(*networkingv1.Ingress)
	if ing.DeletionTimestamp != nil {
		return nil
	}
	want := ing.DeepCopy()
	ingressAddressed(want)
	if apiequality.Semantic.DeepEqual(want.Status, ing.Status) {
		return nil
	}
	_, err = k.cs.NetworkingV1().Ingresses(ing.Namespace).UpdateStatus(ctx, want, metav1.UpdateOptions{})
	return err
}

// PodReady reports the pod's Ready condition.
func PodReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// PendingPods names every pod that is not bound to a node, in every
// namespace, with the scheduler's verdict: "ns/name: Unschedulable: <message>"
// from its PodScheduled=False condition (a message like "0/1 nodes are
// available: 1 Insufficient cpu."), or that the scheduler has not decided
// yet. Tests print it when pods do not come up, so the cause is in the
// output rather than in the cluster. When the pods cannot be listed, the one
// entry says so: a caller that expects none fails with the reason.
func PendingPods(ctx context.Context, cs kubernetes.Interface) []string {
	pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName="})
	if err != nil {
		return []string{fmt.Sprintf("(cannot list the unbound pods: %v)", err)}
	}
	var out []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodPending {
			continue
		}
		verdict := "not yet considered by the scheduler"
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				verdict = c.Reason + ": " + c.Message
			}
		}
		out = append(out, p.Namespace+"/"+p.Name+": "+verdict)
	}
	slices.Sort(out)
	return out
}
