package generator

import (
	"errors"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/rdspark/gen/generator/component"
)

// checkWorkloads holds every pod gen authors to what a cluster reviewer
// checks, so that a new component cannot quietly skip it:
//   - every container requests and limits ephemeral storage (a container
//     that fills the node's disk gets every pod of the node evicted);
//   - every pod is selected by a NetworkPolicy of its namespace, which lets
//     in only what it names;
//   - a long-running container has readiness and liveness probes that
//     differ, and liveness is the more patient of the two: a readiness
//     failure only takes the pod out of its Service, a liveness failure
//     restarts it.
func checkWorkloads(components []component.Component) error {
	var policies []*networkingv1.NetworkPolicy
	type pod struct {
		what      string
		namespace string
		template  corev1.PodTemplateSpec
		serving   bool
	}
	var pods []pod
	for _, c := range components {
		for _, f := range c.Files {
			for _, o := range f.Objects {
				switch o := o.(type) {
				case *networkingv1.NetworkPolicy:
					policies = append(policies, o)
				case *appsv1.Deployment:
					pods = append(pods, pod{"Deployment " + o.Namespace + "/" + o.Name, o.Namespace, o.Spec.Template, true})
				case *batchv1.Job:
					pods = append(pods, pod{"Job " + o.Namespace + "/" + o.Name, o.Namespace, o.Spec.Template, false})
				}
			}
		}
	}
	var errs []error
	for _, p := range pods {
		if !selected(policies, p.namespace, p.template.Labels) {
			errs = append(errs, fmt.Errorf("%s: no NetworkPolicy selects its pods", p.what))
		}
		for _, c := range p.template.Spec.Containers {
			r := c.Resources
			if _, ok := r.Requests[corev1.ResourceEphemeralStorage]; !ok {
				errs = append(errs, fmt.Errorf("%s: container %s requests no ephemeral-storage", p.what, c.Name))
			}
			if _, ok := r.Limits[corev1.ResourceEphemeralStorage]; !ok {
				errs = append(errs, fmt.Errorf("%s: container %s has no ephemeral-storage limit", p.what, c.Name))
			}
			if !p.serving {
				continue
			}
			switch {
			case c.ReadinessProbe == nil || c.LivenessProbe == nil:
				errs = append(errs, fmt.Errorf("%s: container %s needs both a readiness and a liveness probe", p.what, c.Name))
			case reflect.DeepEqual(c.ReadinessProbe, c.LivenessProbe):
				errs = append(errs, fmt.Errorf("%s: container %s has identical readiness and liveness probes: a slow moment would restart it instead of only taking it out of its Service", p.what, c.Name))
			case patience(c.LivenessProbe) < patience(c.ReadinessProbe):
				errs = append(errs, fmt.Errorf("%s: container %s's liveness probe gives up sooner (%ds) than its readiness probe (%ds)", p.what, c.Name, patience(c.LivenessProbe), patience(c.ReadinessProbe)))
			}
		}
	}
	return errors.Join(errs...)
}

// patience is how long a probe tolerates failures before it acts, in seconds
// (Kubernetes' defaults: period 10 s, threshold 3).
func patience(p *corev1.Probe) int32 {
	period, failures := p.PeriodSeconds, p.FailureThreshold
	if period == 0 {
		period = 10
	}
	if failures == 0 {
		failures = 3
	}
	return p.InitialDelaySeconds + period*failures
}

func selected(policies []*networkingv1.NetworkPolicy, namespace string, podLabels map[string]string) bool {
	for _, np := range policies {
		if np.Namespace != namespace {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err == nil && sel.Matches(labels.Set(podLabels)) {
			return true
		}
	}
	return false
}
