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
	MinIO         MinIO         `json:"minio"`
	SparkOperator SparkOperator `json:"sparkOperator"`
	Spark         Spark         `json:"spark"`
	HistoryServer HistoryServer `json:"historyServer"`
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
	// StorageClassName of MinIO's volume; empty means the cluster default.
	StorageClassName string `json:"storageClassName"`
	// ReconciliationTimeout is how often Argo CD polls Git (argocd-cm timeout.reconciliation).
	ReconciliationTimeout string `json:"reconciliationTimeout"`
	// Resources override the components' resources in this environment only.
	Resources EnvironmentResources `json:"resources"`
}

// EnvironmentResources are per-component resource overrides; nil keeps the base.
type EnvironmentResources struct {
	MinIO         *Resources `json:"minio,omitempty"`
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

// MinIO is the S3-compatible object store that holds the Spark event logs.
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
