package patch

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"

	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/manifest"
)

// Op is one RFC 6902 operation.
type Op struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// JSON6902 is a patch of ops on the object of kind and name.
func JSON6902(kind, name string, ops ...Op) types.Patch {
	body, err := yaml.Marshal(ops)
	if err != nil {
		// Ops hold only strings and k8s.io/api values, which always marshal.
		panic(fmt.Sprintf("marshal patch for %s/%s: %v", kind, name, err))
	}
	return types.Patch{Patch: string(body), Target: target(kind, name)}
}

// StrategicMerge is a patch given as a partial object (it names its own target).
func StrategicMerge(obj manifest.Object) (types.Patch, error) {
	body, err := manifest.Marshal(obj)
	if err != nil {
		return types.Patch{}, err
	}
	return types.Patch{Patch: string(body)}, nil
}

func target(kind, name string) *types.Selector {
	return &types.Selector{ResId: resid.ResId{Gvk: resid.Gvk{Kind: kind}, Name: name}}
}

// IngressHosts sets the environment's ingress class and one host per rule, in
// rule order (bases leave both out: they belong to the environment). With TLS
// on, the Ingress gets one tls entry for all its hosts, Secret <name>-tls, and
// the cert-manager annotation that fills it when an issuer is configured.
func IngressHosts(name string, env config.Environment, hosts ...string) types.Patch {
	ops := []Op{{Op: "add", Path: "/spec/ingressClassName", Value: env.IngressClassName}}
	for i, host := range hosts {
		ops = append(ops, Op{Op: "add", Path: fmt.Sprintf("/spec/rules/%d/host", i), Value: host})
	}
	if env.TLS.Enabled {
		ops = append(ops, Op{Op: "add", Path: "/spec/tls", Value: []networkingv1.IngressTLS{{Hosts: hosts, SecretName: name + "-tls"}}})
		if env.TLS.ClusterIssuer != "" {
			ops = append(ops, Op{Op: "add", Path: "/metadata/annotations", Value: map[string]string{"cert-manager.io/cluster-issuer": env.TLS.ClusterIssuer}})
		}
	}
	return JSON6902("Ingress", name, ops...)
}

// Replicas sets the replicas of a Deployment.
func Replicas(name string, n int) types.Patch {
	return JSON6902("Deployment", name, Op{Op: "replace", Path: "/spec/replicas", Value: n})
}

// ContainerResources replaces the CPU and memory requests and limits of the
// first container of a workload, one value at a time, so that what else the
// base sets (ephemeral storage) stays.
func ContainerResources(kind, name string, r config.Resources) types.Patch {
	const at = "/spec/template/spec/containers/0/resources/"
	return JSON6902(kind, name,
		Op{Op: "replace", Path: at + "requests/cpu", Value: string(r.Requests.CPU)},
		Op{Op: "replace", Path: at + "requests/memory", Value: string(r.Requests.Memory)},
		Op{Op: "replace", Path: at + "limits/cpu", Value: string(r.Limits.CPU)},
		Op{Op: "replace", Path: at + "limits/memory", Value: string(r.Limits.Memory)},
	)
}

// ContainerEnv sets the value of an environment variable the first
// container of a workload already has (at index i of its env list).
func ContainerEnv(kind, name string, i int, value string) types.Patch {
	return JSON6902(kind, name, Op{Op: "replace", Path: fmt.Sprintf("/spec/template/spec/containers/0/env/%d/value", i), Value: value})
}
