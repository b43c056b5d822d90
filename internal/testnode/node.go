//go:build linux

package testnode

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
)

// Node plays, for a cluster with no kubelet, scheduler or workload
// controllers, the part of those that Argo CD's health checks and kstatus
// look at: it watches every namespace and, through the status subresources,
//
//   - marks Deployments rolled out and available (what the deployment
//     controller reports once kubelet runs the pods): observedGeneration,
//     replicas = updatedReplicas = readyReplicas = availableReplicas =
//     spec.replicas, conditions Available=True (MinimumReplicasAvailable)
//     and Progressing=True (NewReplicaSetAvailable);
//   - marks StatefulSets rolled out: observedGeneration, replicas, ready,
//     current, updated and available replicas, currentRevision =
//     updateRevision;
//   - completes Jobs (unless suspended): startTime, completionTime,
//     succeeded = spec.completions, conditions SuccessCriteriaMet and
//     Complete, as the job controller does after its pods succeed;
//   - binds PersistentVolumeClaims (phase Bound, capacity = the requested
//     storage, the claim's access modes), as a provisioner and the PV
//     controller would, without creating a PersistentVolume;
//   - gives Ingresses an address (status.loadBalancer.ingress 127.0.0.1), as
//     Traefik does on k3s.
//
// Everything else stays real: the API server validates every status write,
// and generation changes (a new pod template, a new replica count) are
// answered with a new observedGeneration like the real controllers do.
type Node struct {
	cs    kubernetes.Interface
	queue workqueue.TypedRateLimitingInterface[nodeKey]

	deployments  cache.Indexer
	statefulSets cache.Indexer
	jobs         cache.Indexer
	pvcs         cache.Indexer
	ingresses    cache.Indexer
}

type nodeKey struct {
	kind string // one of the kind* constants
	key  string // namespace/name
}

const (
	kindDeployment  = "Deployment"
	kindStatefulSet = "StatefulSet"
	kindJob         = "Job"
	kindPVC         = "PersistentVolumeClaim"
	kindIngress     = "Ingress"
)

// StartNode starts the node simulator for the test; it stops when the test
// ends. It returns once its informers have synced.
func StartNode(t testing.TB, cs kubernetes.Interface) *Node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactory(cs, 0)
	n := &Node{
		cs: cs,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[nodeKey](),
			workqueue.TypedRateLimitingQueueConfig[nodeKey]{Name: "e2e-node"}),
	}
	watch := func(kind string, inf cache.SharedIndexInformer) cache.Indexer {
		enqueue := func(obj any) {
			if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
				n.queue.Add(nodeKey{kind, key})
			}
		}
		_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    enqueue,
			UpdateFunc: func(_, obj any) { enqueue(obj) },
		})
		if err != nil {
			t.Fatal(err)
		}
		return inf.GetIndexer()
	}
	n.deployments = watch(kindDeployment, factory.Apps().V1().Deployments().Informer())
	n.statefulSets = watch(kindStatefulSet, factory.Apps().V1().StatefulSets().Informer())
	n.jobs = watch(kindJob, factory.Batch().V1().Jobs().Informer())
	n.pvcs = watch(kindPVC, factory.Core().V1().PersistentVolumeClaims().Informer())
	n.ingresses = watch(kindIngress, factory.Networking().V1().Ingresses().Informer())

	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n.processNext(ctx, t) {
		}
	}()
	t.Cleanup(func() {
		cancel()
		n.queue.ShutDown()
		factory.Shutdown()
		<-done
	})
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			t.Fatalf("node simulator: informer for %v did not sync", typ)
		}
	}
	return n
}

func (n *Node) processNext(ctx context.Context, t testing.TB) bool {
	k, quit := n.queue.Get()
	if quit {
		return false
	}
	defer n.queue.Done(k)
	if err := n.sync(ctx, k); err != nil {
		if ctx.Err() != nil {
			return false
		}
		// A conflict means the informer has not seen the latest version
		// yet; the update event that follows requeues it anyway.
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			t.Logf("node simulator: %s %s: %v (retrying)", k.kind, k.key, err)
		}
		n.queue.AddRateLimited(k)
		return true
	}
	n.queue.Forget(k)
	return true
}

// sync brings the status of one object to what a healthy node and its
// controllers would report; it writes only when something differs.
func (n *Node) sync(ctx context.Context, k nodeKey) error {
	var store cache.Indexer
	switch k.kind {
	case kindDeployment:
		store = n.deployments
	case kindStatefulSet:
		store = n.statefulSets
	case kindJob:
		store = n.jobs
	case kindPVC:
		store = n.pvcs
	case kindIngress:
		store = n.ingresses
	}
	obj, exists, err := store.GetByKey(k.key)
	if err != nil || !exists {
		return err
	}
	if obj.(metav1.Object).GetDeletionTimestamp() != nil {
		return nil
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		want := o.DeepCopy()
		deploymentReady(want)
		if apiequality.Semantic.DeepEqual(want.Status, o.Status) {
			return nil
		}
		_, err = n.cs.AppsV1().Deployments(o.Namespace).UpdateStatus(ctx, want, metav1.UpdateOptions{})
	case *appsv1.StatefulSet:
		want := o.DeepCopy()
		statefulSetReady(want)
		if apiequality.Semantic.DeepEqual(want.Status, o.Status) {
			return nil
		}
		_, err = n.cs.AppsV1().StatefulSets(o.Namespace).UpdateStatus(ctx, want, metav1.UpdateOptions{})
	case *batchv1.Job:
		want := o.DeepCopy()
		jobComplete(want)
		if apiequality.Semantic.DeepEqual(want.Status, o.Status) {
			return nil
		}
		_, err = n.cs.BatchV1().Jobs(o.Namespace).UpdateStatus(ctx, want, metav1.UpdateOptions{})
	case *corev1.PersistentVolumeClaim:
		want := o.DeepCopy()
		pvcBound(want)
		if apiequality.Semantic.DeepEqual(want.Status, o.Status) {
			return nil
		}
		_, err = n.cs.CoreV1().PersistentVolumeClaims(o.Namespace).UpdateStatus(ctx, want, metav1.UpdateOptions{})
	case *networkingv1.Ingress:
		want := o.DeepCopy()
		ingressAddressed(want)
		if apiequality.Semantic.DeepEqual(want.Status, o.Status) {
			return nil
		}
		_, err = n.cs.NetworkingV1().Ingresses(o.Namespace).UpdateStatus(ctx, want, metav1.UpdateOptions{})
	default:
		return fmt.Errorf("unexpected object %T", obj)
	}
	return err
}

// setDeploymentCondition sets c, keeping the old condition (and so its
// timestamps) when nothing but the timestamps would change, so a re-sync of
// a ready Deployment writes nothing.
func setDeploymentCondition(d *appsv1.Deployment, c appsv1.DeploymentCondition) {
	for i, old := range d.Status.Conditions {
		if old.Type == c.Type {
			if old.Status == c.Status && old.Reason == c.Reason && old.Message == c.Message {
				return
			}
			if old.Status == c.Status {
				c.LastTransitionTime = old.LastTransitionTime
			}
			d.Status.Conditions[i] = c
			return
		}
	}
	d.Status.Conditions = append(d.Status.Conditions, c)
}

func deploymentReady(d *appsv1.Deployment) {
	replicas := ptr.Deref(d.Spec.Replicas, 1)
	now := metav1.Now()
	d.Status.ObservedGeneration = d.Generation
	d.Status.Replicas = replicas
	d.Status.UpdatedReplicas = replicas
	d.Status.ReadyReplicas = replicas
	d.Status.AvailableReplicas = replicas
	d.Status.UnavailableReplicas = 0
	d.Status.TerminatingReplicas = nil
	// The name the deployment controller would give the ReplicaSet of this
	// template generation; only the messages show it.
	rs := d.Name + "-" + strconv.FormatInt(d.Generation, 10)
	setDeploymentCondition(d, appsv1.DeploymentCondition{
		Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue,
		Reason: "MinimumReplicasAvailable", Message: "Deployment has minimum availability.",
		LastUpdateTime: now, LastTransitionTime: now,
	})
	setDeploymentCondition(d, appsv1.DeploymentCondition{
		Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue,
		Reason: "NewReplicaSetAvailable", Message: fmt.Sprintf("ReplicaSet %q has successfully progressed.", rs),
		LastUpdateTime: now, LastTransitionTime: now,
	})
}

func statefulSetReady(s *appsv1.StatefulSet) {
	replicas := ptr.Deref(s.Spec.Replicas, 1)
	s.Status.ObservedGeneration = s.Generation
	s.Status.Replicas = replicas
	s.Status.ReadyReplicas = replicas
	s.Status.CurrentReplicas = replicas
	s.Status.UpdatedReplicas = replicas
	s.Status.AvailableReplicas = replicas
	// The controller names revisions after the template's hash; the
	// generation is enough to make a new template a new revision.
	rev := s.Name + "-" + strconv.FormatInt(s.Generation, 10)
	s.Status.CurrentRevision = rev
	s.Status.UpdateRevision = rev
}

func jobComplete(j *batchv1.Job) {
	if ptr.Deref(j.Spec.Suspend, false) {
		return
	}
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return // finished jobs are immutable
		}
	}
	now := metav1.Now()
	if j.Status.StartTime == nil {
		j.Status.StartTime = &now
	}
	j.Status.CompletionTime = &now
	j.Status.Active = 0
	j.Status.Ready = ptr.To[int32](0)
	j.Status.Terminating = ptr.To[int32](0)
	j.Status.Succeeded = ptr.Deref(j.Spec.Completions, 1)
	j.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	// The API server accepts Complete only after (or with)
	// SuccessCriteriaMet, as the job controller writes them.
	j.Status.Conditions = append(j.Status.Conditions,
		batchv1.JobCondition{
			Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue,
			Reason: "CompletionsReached", Message: "Reached expected number of succeeded pods",
			LastProbeTime: now, LastTransitionTime: now,
		},
		batchv1.JobCondition{
			Type: batchv1.JobComplete, Status: corev1.ConditionTrue,
			Reason: "CompletionsReached", Message: "Reached expected number of succeeded pods",
			LastProbeTime: now, LastTransitionTime: now,
		})
}

func pvcBound(p *corev1.PersistentVolumeClaim) {
	p.Status.Phase = corev1.ClaimBound
	p.Status.AccessModes = p.Spec.AccessModes
	if storage, ok := p.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
		p.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: storage}
	}
}

func ingressAddressed(i *networkingv1.Ingress) {
	i.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "127.0.0.1"}}
}
