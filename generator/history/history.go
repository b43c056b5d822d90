package history

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/kustomize/api/types"

	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image"
	"github.com/rdspark/gen/generator/image/spark"
	"github.com/rdspark/gen/generator/patch"
	"github.com/rdspark/gen/generator/s3"
)

// Name of the component, its Service and Ingress.
const (
	Name     = "spark-history"
	UIPort   = 18080
	sparkUID = spark.UID
	confDir  = "/opt/spark/conf-gen"
)

// heapEnv sets the History Server's JVM heap.
const heapEnv = "SPARK_DAEMON_MEMORY"

// heap is SPARK_DAEMON_MEMORY for the container's resources (validation
// keeps it above config.MinHistoryHeapMiB).
func heap(r config.Resources) string {
	return fmt.Sprintf("%dm", config.HistoryHeapMiB(r.Limits.Memory))
}

// Host is the History Server's host in env.
func Host(env config.Environment) string { return "spark-history." + env.Domain }

// SparkDefaults is spark-defaults.conf for the History Server: no credentials,
// those come from the environment.
func SparkDefaults(cfg config.Platform) string {
	h := cfg.Spec.HistoryServer
	props := map[string]string{
		"spark.history.fs.logDirectory":     h.LogDirectory,
		"spark.history.ui.port":             fmt.Sprint(UIPort),
		"spark.history.fs.cleaner.enabled":  fmt.Sprint(h.Cleaner.Enabled),
		"spark.history.fs.cleaner.interval": h.Cleaner.Interval,
		"spark.history.fs.cleaner.maxAge":   h.Cleaner.MaxAge,
	}
	for k, v := range s3.HadoopConf(cfg) {
		props["spark.hadoop."+k] = v
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %s\n", k, props[k])
	}
	return b.String()
}

// Component renders the History Server.
func Component(cfg config.Platform) (component.Component, error) {
	h := cfg.Spec.HistoryServer
	// The Spark + S3A image rendered into image/Dockerfile from spec.spark.
	sparkImage, err := image.Reference(cfg)
	if err != nil {
		return component.Component{}, err
	}
	ns := component.HistoryNamespace
	labels := component.Labels(Name, "history-server")
	selector := component.SelectorLabels(Name, "history-server")

	sa := &corev1.ServiceAccount{
		TypeMeta:                     component.TypeMeta("v1", "ServiceAccount"),
		ObjectMeta:                   component.Meta(Name, ns, labels),
		AutomountServiceAccountToken: ptr.To(false),
	}
	configMap := &corev1.ConfigMap{
		TypeMeta:   component.TypeMeta("v1", "ConfigMap"),
		ObjectMeta: component.Meta(Name, ns, labels),
		Data:       map[string]string{"spark-defaults.conf": SparkDefaults(cfg)},
	}
	probe := func(initialDelay, failures int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")}},
			InitialDelaySeconds: initialDelay,
			PeriodSeconds:       10,
			TimeoutSeconds:      5,
			FailureThreshold:    failures,
		}
	}
	deployment := &appsv1.Deployment{
		TypeMeta:   component.TypeMeta("apps/v1", "Deployment"),
		ObjectMeta: component.Meta(Name, ns, labels),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName:           Name,
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext:              component.PodSecurity(sparkUID),
					Containers: []corev1.Container{{
						Name:            Name,
						Image:           sparkImage,
						ImagePullPolicy: corev1.PullIfNotPresent,
						// spark-class keeps the server in the foreground (start-history-server.sh daemonizes).
						Command: []string{"/opt/spark/bin/spark-class", "org.apache.spark.deploy.history.HistoryServer",
							"--properties-file", confDir + "/spark-defaults.conf"},
						Env: append(s3.CredentialsEnv(cfg),
							corev1.EnvVar{Name: "HOME", Value: "/tmp"},
							corev1.EnvVar{Name: "SPARK_NO_DAEMONIZE", Value: "true"},
							// spark-class gives a daemon -Xmx$SPARK_DAEMON_MEMORY,
							// 1g when unset: above a laptop's container limit.
							// The heap follows the limit (overlays too).
							corev1.EnvVar{Name: heapEnv, Value: heap(h.Resources)},
						),
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: UIPort, Protocol: corev1.ProtocolTCP}},
						// Readiness takes the pod out of the Service within 30 s;
						// liveness restarts only a JVM that has not answered
						// for 3 minutes (a long event-log replay answers slowly).
						ReadinessProbe:  probe(10, 3),
						LivenessProbe:   probe(60, 18),
						Resources:       component.Resources(h.Resources),
						SecurityContext: component.ContainerSecurity(),
						VolumeMounts: []corev1.VolumeMount{
							{Name: "config", MountPath: confDir, ReadOnly: true},
							{Name: "tmp", MountPath: "/tmp"},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: configMap.Name},
						}}},
						component.EmptyDir("tmp", "1Gi"),
					},
				},
			},
		},
	}
	component.LimitEphemeralStorage(&deployment.Spec.Template.Spec)
	// Where overlays find heapEnv to set it for their own memory limit.
	heapEnvIndex := slices.IndexFunc(deployment.Spec.Template.Spec.Containers[0].Env, func(e corev1.EnvVar) bool { return e.Name == heapEnv })
	// Roll the pod when what it reads from the tree changes, and only then.
	component.AnnotateRollout(&deployment.Spec.Template, configMap)

	service := &corev1.Service{
		TypeMeta:   component.TypeMeta("v1", "Service"),
		ObjectMeta: component.Meta(Name, ns, labels),
		Spec: corev1.ServiceSpec{
			Selector: selector,
			Ports:    []corev1.ServicePort{{Name: "http", Port: UIPort, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}},
		},
	}
	ingress := &networkingv1.Ingress{
		TypeMeta:   component.TypeMeta("networking.k8s.io/v1", "Ingress"),
		ObjectMeta: component.Meta(Name, ns, labels),
		Spec:       networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{component.IngressRule("", Name, "http")}},
	}
	policy := &networkingv1.NetworkPolicy{
		TypeMeta:   component.TypeMeta("networking.k8s.io/v1", "NetworkPolicy"),
		ObjectMeta: component.Meta(Name, ns, labels),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: selector},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  []networkingv1.NetworkPolicyPeer{component.NamespacePeer(component.IngressControllerNamespace)},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(UIPort))}},
			}},
		},
	}
	return component.Component{
		Name:      Name,
		Namespace: ns,
		Wave:      3,
		Files: []component.File{
			{Name: "serviceaccount.yaml", Objects: []any{sa}},
			{Name: "configmap.yaml", Objects: []any{configMap}},
			{Name: "deployment.yaml", Objects: []any{deployment}},
			{Name: "service.yaml", Objects: []any{service}},
			{Name: "ingress.yaml", Objects: []any{ingress}},
			{Name: "networkpolicy.yaml", Objects: []any{policy}},
		},
		Overlay: func(env config.Environment) ([]types.Patch, error) {
			patches := []types.Patch{patch.IngressHosts(Name, env, Host(env))}
			if r := env.Resources.HistoryServer; r != nil {
				patches = append(patches, patch.ContainerResources("Deployment", Name, *r),
					patch.ContainerEnv("Deployment", Name, heapEnvIndex, heap(*r)))
			}
			if n := env.Replicas.HistoryServer; n > 1 {
				patches = append(patches, patch.Replicas(Name, n))
			}
			return patches, nil
		},
	}, nil
}
