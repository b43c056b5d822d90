package minio

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/kustomize/api/types"

	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/patch"
)

// Names and ports other components rely on.
const (
	Name        = "minio"
	APIPort     = 9000
	ConsolePort = 9001
	// uid the server runs as: the image has no USER, and restricted pods must not run as root.
	uid = 1000
)

// Endpoint is the in-cluster S3 endpoint of MinIO.
func Endpoint() string {
	return fmt.Sprintf("http://%s.%s.svc.cluster.local:%d", Name, component.MinIONamespace, APIPort)
}

// Component renders MinIO for cfg.
func Component(cfg config.Platform) (component.Component, error) {
	m := cfg.Spec.MinIO
	ns := component.MinIONamespace
	labels := component.Labels(Name, "object-store")
	selector := component.SelectorLabels(Name, "object-store")

	sa := &corev1.ServiceAccount{
		TypeMeta:                     component.TypeMeta("v1", "ServiceAccount"),
		ObjectMeta:                   component.Meta(Name, ns, labels),
		AutomountServiceAccountToken: ptr.To(false),
	}
	pvc := &corev1.PersistentVolumeClaim{
		TypeMeta:   component.TypeMeta("v1", "PersistentVolumeClaim"),
		ObjectMeta: component.Meta(Name+"-data", ns, labels),
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: resource.MustParse(string(m.Storage)),
			}},
		},
	}
	// Argo CD must never prune the data volume, even when MinIO is removed from the tree.
	pvc.Annotations = map[string]string{"argocd.argoproj.io/sync-options": "Prune=false,Delete=false"}

	credentials := []corev1.EnvVar{
		component.SecretEnv("MINIO_ROOT_USER", m.CredentialsSecret, component.CredentialsUserKey),
		component.SecretEnv("MINIO_ROOT_PASSWORD", m.CredentialsSecret, component.CredentialsPasswordKey),
	}
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("api")}},
			PeriodSeconds:    10,
			TimeoutSeconds:   5,
			FailureThreshold: 6,
		}
	}
	deployment := &appsv1.Deployment{
		TypeMeta:   component.TypeMeta("apps/v1", "Deployment"),
		ObjectMeta: component.Meta(Name, ns, labels),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			// One ReadWriteOnce volume: the old pod must stop before the new one mounts it.
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName:           Name,
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext:              component.PodSecurity(uid),
					Containers: []corev1.Container{{
						Name:  Name,
						Image: component.Image(cfg.Spec.Images, m.Image),
						// --certs-dir: MinIO otherwise creates $HOME/.minio on the read-only root filesystem.
						Args: []string{"server", "/data", "--address", fmt.Sprintf(":%d", APIPort),
							"--console-address", fmt.Sprintf(":%d", ConsolePort), "--certs-dir", "/tmp/certs"},
						Env: append(credentials,
							corev1.EnvVar{Name: "HOME", Value: "/tmp"},
							corev1.EnvVar{Name: "MINIO_BROWSER_REDIRECT", Value: "false"},
						),
						Ports: []corev1.ContainerPort{
							{Name: "api", ContainerPort: APIPort, Protocol: corev1.ProtocolTCP},
							{Name: "console", ContainerPort: ConsolePort, Protocol: corev1.ProtocolTCP},
						},
						ReadinessProbe:  probe("/minio/health/ready"),
						LivenessProbe:   probe("/minio/health/live"),
						Resources:       component.Resources(m.Resources),
						SecurityContext: component.ContainerSecurity(),
						VolumeMounts: []corev1.VolumeMount{
							{Name: "data", MountPath: "/data"},
							{Name: "tmp", MountPath: "/tmp"},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: pvc.Name}}},
						component.EmptyDir("tmp", "256Mi"),
					},
				},
			},
		},
	}
	component.LimitEphemeralStorage(&deployment.Spec.Template.Spec)
	component.AnnotateRollout(&deployment.Spec.Template)
	service := &corev1.Service{
		TypeMeta:   component.TypeMeta("v1", "Service"),
		ObjectMeta: component.Meta(Name, ns, labels),
		Spec: corev1.ServiceSpec{
			Selector: selector,
			Ports: []corev1.ServicePort{
				{Name: "api", Port: APIPort, TargetPort: intstr.FromString("api"), Protocol: corev1.ProtocolTCP},
				{Name: "console", Port: ConsolePort, TargetPort: intstr.FromString("console"), Protocol: corev1.ProtocolTCP},
			},
		},
	}
	ingress := &networkingv1.Ingress{
		TypeMeta:   component.TypeMeta("networking.k8s.io/v1", "Ingress"),
		ObjectMeta: component.Meta(Name, ns, labels),
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{
			component.IngressRule("", Name, "console"),
			component.IngressRule("", Name, "api"),
		}},
	}
	job, err := bucketJob(cfg, labels)
	if err != nil {
		return component.Component{}, err
	}

	return component.Component{
		Name:      Name,
		Namespace: ns,
		Wave:      1,
		Files: []component.File{
			{Name: "serviceaccount.yaml", Objects: []any{sa}},
			{Name: "persistentvolumeclaim.yaml", Objects: []any{pvc}},
			{Name: "deployment.yaml", Objects: []any{deployment}},
			{Name: "service.yaml", Objects: []any{service}},
			{Name: "ingress.yaml", Objects: []any{ingress}},
			// The bucket Job's pod serves nothing: nothing gets in.
			{Name: "networkpolicy.yaml", Objects: []any{networkPolicy(cfg, selector),
				component.IngressPolicy(job.Spec.Template.Labels["app.kubernetes.io/name"], ns, labels, job.Spec.Template.Labels)}},
			{Name: "bucket-job.yaml", Objects: []any{job}},
		},
		Overlay: func(env config.Environment) ([]types.Patch, error) {
			patches := []types.Patch{
				patch.JSON6902("PersistentVolumeClaim", pvc.Name, patch.Op{Op: "add", Path: "/spec/storageClassName", Value: env.StorageClassName}),
				patch.IngressHosts(ingress.Name, env, ConsoleHost(env), APIHost(env)),
			}
			if env.StorageClassName == "" {
				patches = patches[1:]
			}
			if r := env.Resources.MinIO; r != nil {
				patches = append(patches, patch.ContainerResources("Deployment", Name, *r))
			}
			return patches, nil
		},
	}, nil
}

// ConsoleHost is the MinIO console's host in env.
func ConsoleHost(env config.Environment) string { return "minio-console." + env.Domain }

// APIHost is the S3 API's host in env (for clients outside the cluster).
func APIHost(env config.Environment) string { return "minio." + env.Domain }

// bucketJob creates the bucket and the event-log prefix, idempotently. Its
// name carries a hash of its spec: a Job's template is immutable, so a changed
// job is a new Job (and Argo CD prunes the old one).
func bucketJob(cfg config.Platform, labels map[string]string) (*batchv1.Job, error) {
	m := cfg.Spec.MinIO
	// S3 has no folders: an object under the prefix is what makes S3A see the
	// log directory, so the History Server does not fail on "Log directory does not exist".
	script := fmt.Sprintf(`set -eu
until mc alias set platform %[1]s "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null; do
  echo "waiting for MinIO at %[1]s"; sleep 3
done
mc mb --ignore-existing "platform/%[2]s"
if ! mc stat "platform/%[2]s/%[3]s/.keep" >/dev/null 2>&1; then
  printf '' | mc pipe "platform/%[2]s/%[3]s/.keep"
fi
echo "bucket %[2]s and prefix %[3]s/ are ready"
`, Endpoint(), m.Bucket, m.EventLogPrefix)

	spec := batchv1.JobSpec{
		BackoffLimit:          ptr.To[int32](10),
		ActiveDeadlineSeconds: ptr.To[int64](900),
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: component.Labels("minio-bucket", "object-store-setup")},
			Spec: corev1.PodSpec{
				RestartPolicy:                corev1.RestartPolicyOnFailure,
				AutomountServiceAccountToken: ptr.To(false),
				SecurityContext:              component.PodSecurity(uid),
				Containers: []corev1.Container{{
					Name:    "mc",
					Image:   component.Image(cfg.Spec.Images, m.Image),
					Command: []string{"/bin/sh", "-c", script},
					Env: []corev1.EnvVar{
						component.SecretEnv("MINIO_ROOT_USER", m.CredentialsSecret, component.CredentialsUserKey),
						component.SecretEnv("MINIO_ROOT_PASSWORD", m.CredentialsSecret, component.CredentialsPasswordKey),
						{Name: "HOME", Value: "/tmp"},
						{Name: "MC_CONFIG_DIR", Value: "/tmp/.mc"},
					},
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
						Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
					},
					SecurityContext: component.ContainerSecurity(),
					VolumeMounts:    []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}},
				}},
				Volumes: []corev1.Volume{component.EmptyDir("tmp", "64Mi")},
			},
		},
	}
	return component.HashNamedJob("minio-bucket", component.MinIONamespace, labels, spec)
}

// networkPolicy lets in only what needs MinIO: the History Server, Spark jobs,
// the bucket job (same namespace) and the ingress controller for the console.
func networkPolicy(cfg config.Platform, selector map[string]string) *networkingv1.NetworkPolicy {
	from := []networkingv1.NetworkPolicyPeer{
		component.NamespacePeer(component.HistoryNamespace),
		component.NamespacePeer(component.MinIONamespace),
		component.NamespacePeer(component.IngressControllerNamespace),
	}
	for _, ns := range cfg.AllJobNamespaces() {
		from = append(from, component.NamespacePeer(ns))
	}
	return &networkingv1.NetworkPolicy{
		TypeMeta:   component.TypeMeta("networking.k8s.io/v1", "NetworkPolicy"),
		ObjectMeta: component.Meta(Name, component.MinIONamespace, component.Labels(Name, "object-store")),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: selector},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: from,
				Ports: []networkingv1.NetworkPolicyPort{
					{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(APIPort))},
					{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(ConsolePort))},
				},
			}},
		},
	}
}
