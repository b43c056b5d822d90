package seaweedfs

import (
	"fmt"
	"strings"

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
	Name = "seaweedfs"
	// S3Port is the S3 gateway's port.
	S3Port = 8333
	// MasterPort, FilerPort and VolumePort are the HTTP ports of the other
	// servers in the pod; each serves gRPC on its port + grpcOffset.
	MasterPort = 9333
	FilerPort  = 8888
	VolumePort = 8080
	grpcOffset = 10000
	// uid of the image's seaweed user; restricted pods must not run as root.
	uid = 1000
	// dataDir holds the volumes, the master's state and the filer's metadata.
	dataDir = "/data"
)

// Endpoint is the in-cluster S3 endpoint of SeaweedFS.
func Endpoint() string {
	return fmt.Sprintf("http://%s.%s.svc.cluster.local:%d", Name, component.ObjectStoreNamespace, S3Port)
}

// APIHost is the S3 API's host in env (for clients outside the cluster).
func APIHost(env config.Environment) string { return "seaweedfs." + env.Domain }

// Component renders SeaweedFS for cfg.
func Component(cfg config.Platform) (component.Component, error) {
	m := cfg.Spec.MinIO // bucket, prefix, volume size and credentials of every store
	ns := component.ObjectStoreNamespace
	labels := component.Labels(Name, "object-store")
	selector := component.SelectorLabels(Name, "object-store")
	image := component.Image(cfg.Spec.Images, cfg.Spec.SeaweedFS.Image)

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
	// Argo CD must never prune the data volume, even when the store is switched.
	pvc.Annotations = map[string]string{"argocd.argoproj.io/sync-options": "Prune=false,Delete=false"}

	probe := func(failures int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/status", Port: intstr.FromString("s3")}},
			PeriodSeconds:    10,
			TimeoutSeconds:   5,
			FailureThreshold: failures,
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
						Image: image,
						// weed itself, not the image's entrypoint script (which
						// changes between releases and switches users as root).
						Command: []string{"/usr/bin/weed"},
						Args:    ServerArgs(),
						// The S3 gateway makes a static admin identity of these.
						Env: []corev1.EnvVar{
							component.SecretEnv("AWS_ACCESS_KEY_ID", m.CredentialsSecret, component.CredentialsUserKey),
							component.SecretEnv("AWS_SECRET_ACCESS_KEY", m.CredentialsSecret, component.CredentialsPasswordKey),
							{Name: "HOME", Value: "/tmp"},
						},
						Ports: []corev1.ContainerPort{
							{Name: "s3", ContainerPort: S3Port, Protocol: corev1.ProtocolTCP},
							{Name: "master", ContainerPort: MasterPort, Protocol: corev1.ProtocolTCP},
							{Name: "master-grpc", ContainerPort: MasterPort + grpcOffset, Protocol: corev1.ProtocolTCP},
							{Name: "filer", ContainerPort: FilerPort, Protocol: corev1.ProtocolTCP},
							{Name: "filer-grpc", ContainerPort: FilerPort + grpcOffset, Protocol: corev1.ProtocolTCP},
						},
						// The gateway starts after the master, volume server and filer.
						StartupProbe:    probe(30),
						ReadinessProbe:  probe(3),
						LivenessProbe:   probe(6),
						Resources:       component.Resources(cfg.Spec.SeaweedFS.Resources),
						SecurityContext: component.ContainerSecurity(),
						VolumeMounts: []corev1.VolumeMount{
							{Name: "data", MountPath: dataDir},
							// Unix sockets of the filer and the gateway.
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
				{Name: "s3", Port: S3Port, TargetPort: intstr.FromString("s3"), Protocol: corev1.ProtocolTCP},
				// For weed shell in the bucket Job (its NetworkPolicy admits only this namespace).
				{Name: "master", Port: MasterPort, TargetPort: intstr.FromString("master"), Protocol: corev1.ProtocolTCP},
				{Name: "master-grpc", Port: MasterPort + grpcOffset, TargetPort: intstr.FromString("master-grpc"), Protocol: corev1.ProtocolTCP},
				{Name: "filer", Port: FilerPort, TargetPort: intstr.FromString("filer"), Protocol: corev1.ProtocolTCP},
				{Name: "filer-grpc", Port: FilerPort + grpcOffset, TargetPort: intstr.FromString("filer-grpc"), Protocol: corev1.ProtocolTCP},
			},
		},
	}
	// Only the S3 API leaves the cluster: the filer's HTTP API has no authentication.
	ingress := &networkingv1.Ingress{
		TypeMeta:   component.TypeMeta("networking.k8s.io/v1", "Ingress"),
		ObjectMeta: component.Meta(Name, ns, labels),
		Spec:       networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{component.IngressRule("", Name, "s3")}},
	}
	job, err := bucketJob(cfg, image, labels)
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
			var patches []types.Patch
			if env.StorageClassName != "" {
				patches = append(patches, patch.JSON6902("PersistentVolumeClaim", pvc.Name, patch.Op{Op: "add", Path: "/spec/storageClassName", Value: env.StorageClassName}))
			}
			patches = append(patches, patch.IngressHosts(ingress.Name, env, APIHost(env)))
			if r := env.Resources.SeaweedFS; r != nil {
				patches = append(patches, patch.ContainerResources("Deployment", Name, *r))
			}
			return patches, nil
		},
	}, nil
}

// ServerArgs start master, volume server, filer and S3 gateway in one process
// on the data volume: volumes of 1 GiB, as many as the volume has room for
// (the default 30 GB volumes would not fit a laptop's disk), bound to every
// address of the pod (probes and the Service reach it on the pod IP), and no
// telemetry (on by default since 2026; air-gapped clusters have no use for it).
func ServerArgs() []string {
	return []string{
		"-logtostderr=true",
		"server",
		"-dir=" + dataDir,
		"-ip.bind=0.0.0.0",
		"-master.port=" + fmt.Sprint(MasterPort),
		"-master.volumeSizeLimitMB=1024",
		"-master.telemetry=false",
		"-volume.port=" + fmt.Sprint(VolumePort),
		"-volume.max=0",
		"-filer",
		"-filer.port=" + fmt.Sprint(FilerPort),
		"-s3",
		"-s3.port=" + fmt.Sprint(S3Port),
	}
}

// bucketJob creates the bucket and the event-log prefix with weed, through
// the filer, idempotently. Its name carries a hash of its spec: a Job's
// template is immutable, so a changed job is a new Job.
func bucketJob(cfg config.Platform, image string, labels map[string]string) (*batchv1.Job, error) {
	m := cfg.Spec.MinIO
	host := fmt.Sprintf("%s.%s.svc.cluster.local", Name, component.ObjectStoreNamespace)
	// A bucket is the folder /buckets/<bucket> of the filer. S3 lists an empty
	// folder as nothing, so, as with MinIO, an empty object under the prefix
	// is what makes S3A see the log directory (the History Server fails on
	// "Log directory does not exist" otherwise). s3.bucket.create fails on an
	// existing bucket, hence the fs.ls; filer.copy overwrites.
	script := fmt.Sprintf(`set -eu
until wget -q -O /dev/null http://%[1]s:%[2]d/status; do
  echo "waiting for SeaweedFS at %[1]s:%[2]d"; sleep 3
done
shell() { printf '%%s\n' "$1" | weed shell -master=%[1]s:%[3]d -filer=%[1]s:%[4]d; }
if ! shell "fs.ls /buckets/" | grep -qx "%[5]s"; then
  shell "s3.bucket.create -name %[5]s"
fi
: > /tmp/.keep
weed filer.copy /tmp/.keep "http://%[1]s:%[4]d/buckets/%[5]s/%[6]s/"
echo "bucket %[5]s and prefix %[6]s/ are ready"
`, host, S3Port, MasterPort, FilerPort, m.Bucket, strings.Trim(m.EventLogPrefix, "/"))

	spec := batchv1.JobSpec{
		BackoffLimit:          ptr.To[int32](10),
		ActiveDeadlineSeconds: ptr.To[int64](900),
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: component.Labels("seaweedfs-bucket", "object-store-setup")},
			Spec: corev1.PodSpec{
				RestartPolicy:                corev1.RestartPolicyOnFailure,
				AutomountServiceAccountToken: ptr.To(false),
				SecurityContext:              component.PodSecurity(uid),
				Containers: []corev1.Container{{
					Name:    "weed-shell",
					Image:   image,
					Command: []string{"/bin/sh", "-c", script},
					Env:     []corev1.EnvVar{{Name: "HOME", Value: "/tmp"}},
					// 256Mi, not the 128Mi of MinIO's mc Job: each weed
					// command peaks at 127 MiB resident, 98 MiB of it pages
					// of the 160 MB binary itself (measured by
					// test/objectstore with weed 4.53), which a memory
					// cgroup counts; 128Mi left no headroom at all.
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
						Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
					},
					SecurityContext: component.ContainerSecurity(),
					VolumeMounts:    []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}},
				}},
				Volumes: []corev1.Volume{component.EmptyDir("tmp", "64Mi")},
			},
		},
	}
	return component.HashNamedJob("seaweedfs-bucket", component.ObjectStoreNamespace, labels, spec)
}

// networkPolicy lets the S3 API be reached by what reads the event logs (the
// History Server, every job namespace) and the ingress controller, and the
// master and filer only from the object store's own namespace (the bucket Job).
func networkPolicy(cfg config.Platform, selector map[string]string) *networkingv1.NetworkPolicy {
	from := []networkingv1.NetworkPolicyPeer{
		component.NamespacePeer(component.HistoryNamespace),
		component.NamespacePeer(component.ObjectStoreNamespace),
		component.NamespacePeer(component.IngressControllerNamespace),
	}
	for _, ns := range cfg.AllJobNamespaces() {
		from = append(from, component.NamespacePeer(ns))
	}
	port := func(p int32) networkingv1.NetworkPolicyPort {
		return networkingv1.NetworkPolicyPort{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(p))}
	}
	return &networkingv1.NetworkPolicy{
		TypeMeta:   component.TypeMeta("networking.k8s.io/v1", "NetworkPolicy"),
		ObjectMeta: component.Meta(Name, component.ObjectStoreNamespace, component.Labels(Name, "object-store")),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: selector},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{
				{From: from, Ports: []networkingv1.NetworkPolicyPort{port(S3Port)}},
				{
					From: []networkingv1.NetworkPolicyPeer{component.NamespacePeer(component.ObjectStoreNamespace)},
					Ports: []networkingv1.NetworkPolicyPort{
						port(MasterPort), port(MasterPort + grpcOffset),
						port(FilerPort), port(FilerPort + grpcOffset),
						port(VolumePort), port(VolumePort + grpcOffset),
					},
				},
			},
		},
	}
}
