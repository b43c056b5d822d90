package component

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/rdspark/gen/generator/config"
)

// Pod Security Admission levels.
const (
	Restricted = "restricted"
	Baseline   = "baseline"
)

// PartOf is the app.kubernetes.io/part-of label of everything gen renders.
const PartOf = "spark-platform"

// Labels are the recommended labels of a component's objects; the selector
// labels are the first two, so they never change when the version does.
func Labels(name, component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":       name,
		"app.kubernetes.io/component":  component,
		"app.kubernetes.io/part-of":    PartOf,
		"app.kubernetes.io/managed-by": "gen",
	}
}

// SelectorLabels are the immutable subset of Labels used in selectors.
func SelectorLabels(name, component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":      name,
		"app.kubernetes.io/component": component,
	}
}

// Meta is ObjectMeta with name, namespace and labels.
func Meta(name, namespace string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels}
}

// TypeMeta for k8s.io/api objects, which do not set it themselves.
func TypeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

// Namespace is a namespace with Pod Security Admission labels: enforce at
// level, and always warn and audit at restricted so any drift shows up.
func Namespace(name, enforce string) *corev1.Namespace {
	labels := map[string]string{
		"app.kubernetes.io/part-of":                  PartOf,
		"app.kubernetes.io/managed-by":               "gen",
		"pod-security.kubernetes.io/enforce":         enforce,
		"pod-security.kubernetes.io/enforce-version": "latest",
		"pod-security.kubernetes.io/warn":            Restricted,
		"pod-security.kubernetes.io/warn-version":    "latest",
		"pod-security.kubernetes.io/audit":           Restricted,
		"pod-security.kubernetes.io/audit-version":   "latest",
	}
	return &corev1.Namespace{TypeMeta: TypeMeta("v1", "Namespace"), ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

// PodSecurity is the pod-level context of the restricted Pod Security Standard.
func PodSecurity(uid int64) *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		RunAsUser:      ptr.To(uid),
		RunAsGroup:     ptr.To(uid),
		FSGroup:        ptr.To(uid),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// ContainerSecurity is the container-level context of the restricted standard
// with a read-only root filesystem; writable paths are emptyDir volumes.
func ContainerSecurity() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		RunAsNonRoot:             ptr.To(true),
		Privileged:               ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// Resources converts validated config quantities into requirements.
func Resources(r config.Resources) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(string(r.Requests.CPU)),
			corev1.ResourceMemory: resource.MustParse(string(r.Requests.Memory)),
		},
		Limits: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(string(r.Limits.CPU)),
			corev1.ResourceMemory: resource.MustParse(string(r.Limits.Memory)),
		},
	}
}

// EmptyDir is a memory-backed-by-default scratch volume with a size limit.
func EmptyDir(name, sizeLimit string) corev1.Volume {
	q := resource.MustParse(sizeLimit)
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &q}}}
}

// Image puts the registry mirror, when configured, in front of ref.
func Image(images config.Images, ref string) string {
	if images.RegistryMirror == "" {
		return ref
	}
	return images.RegistryMirror + "/" + ref
}

// SecretEnv is an environment variable read from a key of a Secret.
func SecretEnv(name, secret, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret},
		Key:                  key,
	}}}
}

// Keys of the MinIO credentials Secret that gen bootstrap creates.
const (
	CredentialsUserKey     = "rootUser"
	CredentialsPasswordKey = "rootPassword"
)

// Platform namespaces.
const (
	ArgoCDNamespace        = "argocd"
	MinIONamespace         = "minio"
	SparkOperatorNamespace = "spark-operator"
	HistoryNamespace       = "spark-history"
)

// ObjectStoreNamespace holds the in-cluster object store, whichever it is
// (MinIO or SeaweedFS), and the credentials Secret gen bootstrap creates. It
// keeps MinIO's name so that switching stores moves neither the namespace, its
// volume (Prune=false), nor the Secret that bootstrap, doctor and teardown know.
const ObjectStoreNamespace = MinIONamespace

// TenantLabel marks a tenant's namespace with the tenant's name.
const TenantLabel = "gen.rdspark.dev/tenant"

// IngressControllerNamespace is where k3s runs Traefik; NetworkPolicies let it in.
const IngressControllerNamespace = "kube-system"

// NamespacePeer selects every pod of one namespace.
func NamespacePeer(namespace string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
		MatchLabels: map[string]string{"kubernetes.io/metadata.name": namespace},
	}}
}

// IngressRule routes every path of host (empty in bases: overlays add it) to a
// named port of a Service.
func IngressRule(host, service, port string) networkingv1.IngressRule {
	return networkingv1.IngressRule{
		Host: host,
		IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{
				Path:     "/",
				PathType: ptr.To(networkingv1.PathTypePrefix),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
					Name: service,
					Port: networkingv1.ServiceBackendPort{Name: port},
				}},
			}},
		}},
	}
}

// Hash is a short, stable digest of string data (sorted by key), used to roll
// pods when the configuration they read changes.
func Hash(data map[string]string) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%d:%s%d:%s", len(k), k, len(data[k]), data[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// ContainerSecurityWritable is ContainerSecurity with a writable root
// filesystem, for Spark drivers and executors, which write to their work dir.
func ContainerSecurityWritable() *corev1.SecurityContext {
	sc := ContainerSecurity()
	sc.ReadOnlyRootFilesystem = ptr.To(false)
	return sc
}

// HashNamedJob wraps a one-shot setup Job spec (a bucket Job): its name is
// prefix plus a hash of the spec, because a Job's template is immutable and a
// changed Job must be a new Job (Argo CD prunes the old one), and it runs in
// sync wave 1 of its Application, after the workload it sets up is healthy.
func HashNamedJob(prefix, namespace string, labels map[string]string, spec batchv1.JobSpec) (*batchv1.Job, error) {
	LimitEphemeralStorage(&spec.Template.Spec)
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("hash %s job: %w", prefix, err)
	}
	sum := sha256.Sum256(raw)
	job := &batchv1.Job{
		TypeMeta:   TypeMeta("batch/v1", "Job"),
		ObjectMeta: Meta(prefix+"-"+hex.EncodeToString(sum[:])[:8], namespace, labels),
		Spec:       spec,
	}
	job.Annotations = map[string]string{"argocd.argoproj.io/sync-wave": "1"}
	return job, nil
}

// Ephemeral storage. Every container gen authors requests a little local
// disk and is capped (a container that fills the node's disk gets the whole
// node's pods evicted, on a laptop the whole platform): the writable layer
// and logs get EphemeralHeadroom, plus the size limits of the pod's emptyDir
// volumes, which count against the same limit.
const (
	EphemeralRequest  = "64Mi"
	EphemeralHeadroom = "256Mi"
)

// LimitEphemeralStorage sets the ephemeral-storage request and limit of every
// container of spec; call it once the pod's volumes are final.
func LimitEphemeralStorage(spec *corev1.PodSpec) {
	limit := resource.MustParse(EphemeralHeadroom)
	for _, v := range spec.Volumes {
		if v.EmptyDir != nil && v.EmptyDir.SizeLimit != nil {
			limit.Add(*v.EmptyDir.SizeLimit)
		}
	}
	for i := range spec.Containers {
		c := &spec.Containers[i]
		if c.Resources.Requests == nil {
			c.Resources.Requests = corev1.ResourceList{}
		}
		if c.Resources.Limits == nil {
			c.Resources.Limits = corev1.ResourceList{}
		}
		c.Resources.Requests[corev1.ResourceEphemeralStorage] = resource.MustParse(EphemeralRequest)
		c.Resources.Limits[corev1.ResourceEphemeralStorage] = limit.DeepCopy()
	}
}

// IngressPolicy is a NetworkPolicy that lets into the selected pods only
// what the rules allow; with no rules, nothing.
func IngressPolicy(name, ns string, labels, selector map[string]string, rules ...networkingv1.NetworkPolicyIngressRule) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		TypeMeta:   TypeMeta("networking.k8s.io/v1", "NetworkPolicy"),
		ObjectMeta: Meta(name, ns, labels),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: selector},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     rules,
		},
	}
}

// TCPPort is a NetworkPolicy port.
func TCPPort(port int32) networkingv1.NetworkPolicyPort {
	return networkingv1.NetworkPolicyPort{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(port))}
}

// RolloutAnnotation carries a pod template's RolloutHash.
const RolloutAnnotation = "gen.rdspark.dev/config-hash"

// RolloutHash is a digest of what a pod reads from the tree: the data of the
// rendered ConfigMaps among configMaps that spec mounts or reads env from,
// and the names of the Secrets it refers to (their content is the cluster's,
// never rendered). A pod template annotated with it rolls when, and only
// when, one of those changes; empty when the pod reads none.
func RolloutHash(spec corev1.PodSpec, configMaps ...*corev1.ConfigMap) string {
	read := map[string]string{}
	useConfigMap := func(name string) {
		for _, cm := range configMaps {
			if cm.Name != name {
				continue
			}
			for k, v := range cm.Data {
				read["configmap/"+name+"/"+k] = v
			}
		}
	}
	useSecret := func(name string) { read["secret/"+name] = "" }
	for _, v := range spec.Volumes {
		if v.ConfigMap != nil {
			useConfigMap(v.ConfigMap.Name)
		}
		if v.Secret != nil {
			useSecret(v.Secret.SecretName)
		}
	}
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				useConfigMap(r.Name)
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				useSecret(r.Name)
			}
		}
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				useConfigMap(e.ConfigMapRef.Name)
			}
			if e.SecretRef != nil {
				useSecret(e.SecretRef.Name)
			}
		}
	}
	if len(read) == 0 {
		return ""
	}
	return Hash(read)
}

// AnnotateRollout puts RolloutHash on the pod template, when the pod reads
// anything from the tree.
func AnnotateRollout(t *corev1.PodTemplateSpec, configMaps ...*corev1.ConfigMap) {
	h := RolloutHash(t.Spec, configMaps...)
	if h == "" {
		return
	}
	if t.Annotations == nil {
		t.Annotations = map[string]string{}
	}
	t.Annotations[RolloutAnnotation] = h
}
