package kube

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// Status is the kstatus verdict on one live object.
type Status struct {
	Ref     string
	Status  status.Status
	Message string
}

// Ready reports whether the object has reached its desired state.
func (s Status) Ready() bool { return s.Status == status.CurrentStatus }

// StatusOf computes the kstatus of a live object (Deployments rolled out,
// StatefulSets ready, Jobs complete, ...), the readiness rules kubectl and
// flux use, instead of hand-written checks.
func StatusOf(obj *unstructured.Unstructured) Status {
	res, err := status.Compute(obj)
	if err != nil {
		return Status{Ref: Ref(obj), Status: status.UnknownStatus, Message: err.Error()}
	}
	return Status{Ref: Ref(obj), Status: res.Status, Message: res.Message}
}
