package config

import (
	"encoding/json"
	"fmt"
)

// APIVersion and Kind identify a gen config file.
const (
	APIVersion = "gen.rdspark.dev/v1alpha1"
	Kind       = "Platform"
)

// Platform is the whole configuration of one Spark platform: the root of gen.yaml.
type Platform struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       Spec   `json:"spec"`
}

// Spec holds every setting; each one has a built-in default (see Default).
type Spec struct {
	Git           Git           `json:"git"`
	Images        Images        `json:"images"`
	Environments  []Environment `json:"environments"`
	ArgoCD        ArgoCD        `json:"argocd"`
	ObjectStore   ObjectStore   `json:"objectStore"`
	MinIO         MinIO         `json:"minio"`
	SeaweedFS     SeaweedFS     `json:"seaweedfs"`
	SparkOperator SparkOperator `json:"sparkOperator"`
	Spark         Spark         `json:"spark"`
	HistoryServer HistoryServer `json:"historyServer"`
	Tenants       []Tenant      `json:"tenants"`
}

// Git is where Argo CD reads the rendered tree from.
type Git struct {
	RepoURL  string `json:"repoURL"`
	Revision string `json:"revision"`
	// Path is the folder inside the repository that holds manifests/ and overlays/.
	Path string `json:"path"`
}

// Images holds settings that apply to every container image of the tree.
type Images struct {
	// RegistryMirror, when set, is put in front of every image reference
	// (mirror/quay.io/minio/minio:tag), for pull-through caches and air-gapped registries.
	RegistryMirror string `json:"registryMirror"`
}

// Environment is one place the platform runs; each gets its own overlay.
type Environment struct {
	Name string `json:"name"`
	// NodeIP is the address Traefik answers on; the default domain is built from it.
	NodeIP string `json:"nodeIP"`
	// Domain is the DNS suffix of every Ingress host; empty means <nodeIP>.sslip.io.
	Domain           string `json:"domain"`
	IngressClassName string `json:"ingressClassName"`
	// StorageClassName of the in-cluster object store's volume; empty means the cluster default.
	StorageClassName string `json:"storageClassName"`
	// ReconciliationTimeout is how often Argo CD polls Git (argocd-cm timeout.reconciliation).
	ReconciliationTimeout string `json:"reconciliationTimeout"`
	// TLS puts every Ingress of the environment behind HTTPS.
	TLS TLS `json:"tls"`
	// Replicas scale the components that can run more than one pod.
	Replicas Replicas `json:"replicas"`
	// Resources override the components' resources in this environment only.
	Resources EnvironmentResources `json:"resources"`
	// Capacity is what the environment's nodes offer to pods. When set, gen
	// render fails if the platform's requests, the distribution's system
	// pods and one example SparkApplication do not fit in it.
	Capacity Capacity `json:"capacity"`
}

// Capacity is the CPU and memory an environment offers; empty fields mean
// "not checked" (a cluster that scales, say).
type Capacity struct {
	CPU    Quantity `json:"cpu"`
	Memory Quantity `json:"memory"`
}

// TLS of an environment's Ingresses. Each Ingress gets a tls entry for its
// hosts with the Secret <ingress name>-tls, which cert-manager fills when
// ClusterIssuer is set (otherwise the Secrets are the cluster admin's).
type TLS struct {
	Enabled       bool   `json:"enabled"`
	ClusterIssuer string `json:"clusterIssuer"`
}

// Replicas per component in an environment; 0 keeps the base (one pod).
// The Spark Operator's controller and webhook elect a leader, so more than one
// replica of each is safe; the History Server's replicas each read the event
// logs on their own.
type Replicas struct {
	SparkOperator int `json:"sparkOperator"`
	HistoryServer int `json:"historyServer"`
}

// EnvironmentResources are per-component resource overrides; nil keeps the base.
type EnvironmentResources struct {
	MinIO         *Resources `json:"minio,omitempty"`
	SeaweedFS     *Resources `json:"seaweedfs,omitempty"`
	SparkOperator *Resources `json:"sparkOperator,omitempty"`
	HistoryServer *Resources `json:"historyServer,omitempty"`
}

// Resources are a container's requests and limits, as Kubernetes quantities.
type Resources struct {
	Requests ResourceList `json:"requests"`
	Limits   ResourceList `json:"limits"`
}

// ResourceList is a CPU and memory pair ("250m", "512Mi").
type ResourceList struct {
	CPU    Quantity `json:"cpu"`
	Memory Quantity `json:"memory"`
}

// ArgoCD pins the Argo CD release that bootstrap installs and that then manages itself.
type ArgoCD struct {
	Version string `json:"version"`
	// ManifestsBaseURL is where <base>/v<version>/manifests/install.yaml is fetched from.
	ManifestsBaseURL string `json:"manifestsBaseURL"`
}

// Object store types (ObjectStore.Type).
const (
	ObjectStoreMinIO     = "minio"
	ObjectStoreSeaweedFS = "seaweedfs"
	ObjectStoreExternal  = "external"
)

// ObjectStoreTypes are the accepted values of spec.objectStore.type.
var ObjectStoreTypes = []string{ObjectStoreMinIO, ObjectStoreSeaweedFS, ObjectStoreExternal}

// ObjectStore picks the S3 store that holds the Spark event logs. The bucket,
// prefix, volume size and credentials Secret stay under spec.minio for every
// type (they predate the choice); everything that reads the store (the bucket
// Job, the S3A settings of the History Server and of Spark jobs, the
// NetworkPolicies) follows Type.
type ObjectStore struct {
	// Type is minio (MinIO in the cluster, the default), seaweedfs (SeaweedFS
	// in the cluster) or external (an S3 service outside the cluster).
	Type string `json:"type"`
	// Endpoint is the S3 URL of an external store; in-cluster stores leave it empty.
	Endpoint string `json:"endpoint"`
	// Region is what S3A signs requests for; in-cluster stores accept any.
	Region string `json:"region"`
	// PathStyleAccess addresses buckets as <endpoint>/<bucket> instead of
	// <bucket>.<endpoint>; in-cluster stores need it.
	PathStyleAccess bool `json:"pathStyleAccess"`
}

// MinIO is the S3-compatible object store that holds the Spark event logs.
// Storage, Bucket, EventLogPrefix and CredentialsSecret apply to every
// object store type.
type MinIO struct {
	Image   string   `json:"image"`
	Storage Quantity `json:"storage"`
	Bucket  string   `json:"bucket"`
	// EventLogPrefix is the folder in the bucket where Spark writes event logs.
	EventLogPrefix string `json:"eventLogPrefix"`
	// CredentialsSecret names the Secret (keys rootUser, rootPassword) that
	// gen bootstrap creates in the cluster; it is never rendered.
	CredentialsSecret string    `json:"credentialsSecret"`
	Resources         Resources `json:"resources"`
}

// SeaweedFS is the Apache-2.0 S3 store selectable with spec.objectStore.type:
// seaweedfs: one pod running master, volume server, filer and S3 gateway.
type SeaweedFS struct {
	Image     string    `json:"image"`
	Resources Resources `json:"resources"`
}

// SparkOperator pins the Kubeflow Spark Operator and the namespaces it watches.
type SparkOperator struct {
	Version string `json:"version"`
	Image   string `json:"image"`
	// CRDBaseURL is where <base>/v<version>/config/crd/bases/<file> is fetched from.
	CRDBaseURL        string    `json:"crdBaseURL"`
	JobNamespaces     []string  `json:"jobNamespaces"`
	Webhook           bool      `json:"webhook"`
	ControllerWorkers int       `json:"controllerWorkers"`
	Resources         Resources `json:"resources"`
}

// Spark pins the Spark release that the History Server and the example
// SparkApplications run. gen render writes image/Dockerfile from it (the
// official apache/spark image of that release plus the S3A jars of its
// Hadoop), and every pod that runs Spark uses the image reference derived
// from it, so the image and the tree cannot disagree.
type Spark struct {
	// Version is a release of a supported line (see generator/image/spark).
	Version string `json:"version"`
	// Image is the repository of the built Spark + S3A image, without tag: the
	// tag is derived (<version>-hadoop<hadoop version>).
	Image string `json:"image"`
}

// HistoryServer is the Spark History Server that reads event logs from MinIO.
type HistoryServer struct {
	// LogDirectory is the s3a:// URL of the event logs; empty means s3a://<bucket>/<eventLogPrefix>/.
	LogDirectory string    `json:"logDirectory"`
	Resources    Resources `json:"resources"`
	Cleaner      Cleaner   `json:"cleaner"`
}

// Cleaner is the History Server's event-log cleaner (spark.history.fs.cleaner.*).
type Cleaner struct {
	Enabled  bool   `json:"enabled"`
	Interval string `json:"interval"`
	MaxAge   string `json:"maxAge"`
}

// Tenant is a team that shares the platform: its own job namespace (named
// like the tenant) with Pod Security labels, a ResourceQuota and LimitRange,
// the driver ServiceAccount, a Role that lets its groups manage their
// SparkApplications and nothing else, NetworkPolicies that deny everything
// Spark does not need, and an Argo CD AppProject restricted to the namespace.
// Tenant namespaces are job namespaces of the Spark Operator.
type Tenant struct {
	Name string `json:"name"`
	// Groups are the user groups (as the API server authenticates them) that
	// manage the tenant's SparkApplications; empty means one group named like the tenant.
	Groups []string `json:"groups"`
	// PodSecurity is the namespace's enforced Pod Security level.
	PodSecurity string `json:"podSecurity"`
	Quota       Quota  `json:"quota"`
	// ContainerDefaults fill the requests (and memory limit) of containers that set none.
	ContainerDefaults ContainerDefaults `json:"containerDefaults"`
	// SourceRepos are the Git repositories the tenant's AppProject may sync
	// from; empty means the platform's repository.
	SourceRepos []string `json:"sourceRepos"`
}

// Quota is a tenant's ResourceQuota. Memory caps both requests.memory and
// limits.memory: Spark pods request and limit the same memory, and the
// LimitRange gives every other container a memory limit.
type Quota struct {
	CPU               Quantity `json:"cpu"`
	Memory            Quantity `json:"memory"`
	Pods              int      `json:"pods"`
	SparkApplications int      `json:"sparkApplications"`
}

// ContainerDefaults are a tenant's LimitRange defaults. There is no default
// CPU limit on purpose: a Spark driver that asks for more cores than a default
// limit would be refused, and CPU limits only throttle.
type ContainerDefaults struct {
	CPU    Quantity `json:"cpu"`
	Memory Quantity `json:"memory"`
}

// Quantity is a Kubernetes quantity as written in the config. It accepts a
// YAML number too (cpu: 2), the way kubectl does, and stays a string so a bad
// value is reported by Validate with its field path instead of by the decoder.
type Quantity string

// UnmarshalJSON accepts "500m", 2 and 0.5.
func (q *Quantity) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] != '"' {
		var n json.Number
		if err := json.Unmarshal(data, &n); err != nil {
			return fmt.Errorf("quantity must be a string or a number, not %s", data)
		}
		*q = Quantity(n.String())
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	*q = Quantity(s)
	return nil
}
