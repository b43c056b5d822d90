package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"

	"github.com/rdspark/gen/generator/image/spark"
)

// FieldDocs is the one-line description of every field, by path ("[]" stands
// for any list index). gen config default prints them as comments, which
// makes that output the config reference.
var FieldDocs = map[string]string{
	"apiVersion": "config format version",
	"kind":       "always Platform",
	"spec":       "the platform",

	"spec.git":          "where Argo CD reads the rendered tree",
	"spec.git.repoURL":  "Git repository URL (https://, ssh:// or git@host:org/repo.git)",
	"spec.git.revision": "branch, tag or commit Argo CD follows",
	"spec.git.path":     "folder in the repository that holds manifests/ and overlays/",

	"spec.images":                "settings for every container image",
	"spec.images.registryMirror": "registry prefix put in front of every image (e.g. registry.example.com/mirror); empty: pull from the origin",

	"spec.environments":                           "places the platform runs; each gets overlays/<name>/",
	"spec.environments[].name":                    "environment name (DNS label); rancher-desktop gets the laptop defaults",
	"spec.environments[].nodeIP":                  "address the ingress controller answers on; the default domain is built from it",
	"spec.environments[].domain":                  "DNS suffix of every Ingress host; empty: <nodeIP>.sslip.io",
	"spec.environments[].ingressClassName":        "IngressClass of every Ingress (k3s: traefik)",
	"spec.environments[].storageClassName":        "StorageClass of the in-cluster object store's volume; empty: the cluster default",
	"spec.environments[].reconciliationTimeout":   "how often Argo CD polls Git (Go duration)",
	"spec.environments[].tls":                     "HTTPS on every Ingress of this environment",
	"spec.environments[].tls.enabled":             "add a tls entry (Secret <ingress name>-tls) for the hosts of every Ingress",
	"spec.environments[].tls.clusterIssuer":       "cert-manager ClusterIssuer that fills those Secrets; empty: you provide them",
	"spec.environments[].replicas":                "pods per component in this environment; 0: the base (one)",
	"spec.environments[].replicas.sparkOperator":  "Spark Operator controller and webhook replicas (they elect a leader)",
	"spec.environments[].replicas.historyServer":  "History Server replicas",
	"spec.environments[].resources":               "per-component resource overrides for this environment; omitted: the base values",
	"spec.environments[].capacity":                "CPU and memory the environment's nodes offer; gen render fails when the platform, the system pods and one example SparkApplication do not fit (empty: not checked; rancher-desktop: Rancher Desktop's default VM)",
	"spec.environments[].capacity.cpu":            "CPUs (quantity); Rancher Desktop: Preferences > Virtual Machine > CPUs",
	"spec.environments[].capacity.memory":         "memory (quantity); Rancher Desktop: Preferences > Virtual Machine > Memory",
	"spec.environments[].resources.minio":         "MinIO container requests/limits",
	"spec.environments[].resources.seaweedfs":     "SeaweedFS container requests/limits",
	"spec.environments[].resources.sparkOperator": "Spark Operator controller and webhook requests/limits",
	"spec.environments[].resources.historyServer": "History Server requests/limits",

	"spec.argocd":                  "Argo CD, installed by gen bootstrap, then managing itself",
	"spec.argocd.version":          "Argo CD release (3.x)",
	"spec.argocd.manifestsBaseURL": "base of <base>/v<version>/manifests/install.yaml (a mirror keeps that layout)",

	"spec.objectStore":                 "the S3 store that holds the Spark event logs",
	"spec.objectStore.type":            "minio (in the cluster), seaweedfs (in the cluster, Apache-2.0) or external (an S3 service outside)",
	"spec.objectStore.endpoint":        "S3 URL of an external store (type external only), e.g. https://s3.eu-central-1.amazonaws.com",
	"spec.objectStore.region":          "S3 region S3A signs for (in-cluster stores accept any)",
	"spec.objectStore.pathStyleAccess": "address buckets as <endpoint>/<bucket>; in-cluster stores need it",

	"spec.minio":                   "MinIO (objectStore.type minio); bucket, prefix, volume size and credentials apply to every store",
	"spec.minio.image":             "MinIO image, pinned (quay.io: minio/minio left Docker Hub)",
	"spec.minio.storage":           "size of the in-cluster store's volume (quantity)",
	"spec.minio.bucket":            "bucket for Spark event logs (S3 bucket name)",
	"spec.minio.eventLogPrefix":    "folder in the bucket for event logs",
	"spec.minio.credentialsSecret": "Secret with rootUser/rootPassword in namespace minio, created by gen bootstrap (by you for an external store), never in Git",
	"spec.minio.resources":         "MinIO container requests/limits",

	"spec.seaweedfs":           "SeaweedFS (objectStore.type seaweedfs): master, volume server, filer and S3 gateway in one pod",
	"spec.seaweedfs.image":     "SeaweedFS image, pinned to a release tag",
	"spec.seaweedfs.resources": "SeaweedFS container requests/limits",

	"spec.sparkOperator":                   "Kubeflow Spark Operator",
	"spec.sparkOperator.version":           "operator release (2.x); also picks its CRDs",
	"spec.sparkOperator.image":             "operator image (controller and webhook)",
	"spec.sparkOperator.crdBaseURL":        "base of <base>/v<version>/config/crd/bases/<file> (a mirror keeps that layout)",
	"spec.sparkOperator.jobNamespaces":     "namespaces where SparkApplications run (tenants add their own)",
	"spec.sparkOperator.webhook":           "run the admission webhook (needed for env, volumes and security contexts on Spark pods)",
	"spec.sparkOperator.controllerWorkers": "concurrent reconciles of the controller; each may run a spark-submit JVM in the controller's container, so the memory limit must hold 128Mi + 256Mi per worker",
	"spec.sparkOperator.resources":         "controller and webhook requests/limits (memory limit: see controllerWorkers)",

	"spec.spark":         "the Spark release every Spark pod runs; gen render writes image/Dockerfile from it",
	"spec.spark.version": "Spark release; picks the apache/spark base image, its Hadoop and the matching S3A jars (supported: " + spark.Supported() + "); must be the Spark line the operator's image submits with",
	"spec.spark.image":   "repository of the Spark + S3A image built from image/Dockerfile, without tag (the tag is <version>-hadoop<hadoop version>)",

	"spec.historyServer":                  "Spark History Server",
	"spec.historyServer.logDirectory":     "event-log URL; empty: s3a://<bucket>/<eventLogPrefix>/",
	"spec.historyServer.resources":        "History Server requests/limits; its JVM heap is 75% of the memory limit (at least 384Mi of heap)",
	"spec.historyServer.cleaner":          "event-log cleaner",
	"spec.historyServer.cleaner.enabled":  "delete old event logs",
	"spec.historyServer.cleaner.interval": "how often the cleaner runs (Spark time: 12h, 1d)",
	"spec.historyServer.cleaner.maxAge":   "age after which event logs are deleted (Spark time: 7d)",

	"spec.tenants":                            "teams sharing the platform; each gets a job namespace with quota, RBAC, NetworkPolicies and an AppProject",
	"spec.tenants[].name":                     "tenant name (DNS label), also its namespace",
	"spec.tenants[].groups":                   "user groups allowed to manage the tenant's SparkApplications; empty: [<name>]",
	"spec.tenants[].podSecurity":              "enforced Pod Security level of the namespace (baseline or restricted)",
	"spec.tenants[].quota":                    "the namespace's ResourceQuota",
	"spec.tenants[].quota.cpu":                "total CPU requests (quantity)",
	"spec.tenants[].quota.memory":             "total memory requests and limits (quantity)",
	"spec.tenants[].quota.pods":               "number of pods",
	"spec.tenants[].quota.sparkApplications":  "number of SparkApplications",
	"spec.tenants[].containerDefaults":        "LimitRange: what a container that sets nothing gets",
	"spec.tenants[].containerDefaults.cpu":    "CPU request (no default CPU limit)",
	"spec.tenants[].containerDefaults.memory": "memory request and limit",
	"spec.tenants[].sourceRepos":              "Git repositories the tenant's AppProject may sync from; empty: spec.git.repoURL",
}

// Examples are shown, commented out, under list fields whose default is
// empty, so that the reference documents the fields of their elements too.
func Examples() map[string]any {
	return map[string]any{"spec.tenants": []Tenant{ExampleTenant()}}
}

// resourceFieldDocs documents the requests/limits below any *.resources field.
var resourceFieldDocs = map[string]string{
	"requests":        "guaranteed resources",
	"requests.cpu":    "CPU request (quantity)",
	"requests.memory": "memory request (quantity)",
	"limits":          "upper bounds",
	"limits.cpu":      "CPU limit (quantity)",
	"limits.memory":   "memory limit (quantity)",
}

// Doc returns the description of a field path (list indexes written as []).
func Doc(path string) (string, bool) {
	if d, ok := FieldDocs[path]; ok {
		return d, true
	}
	if i := strings.Index(path, ".resources."); i >= 0 {
		rest := path[i+len(".resources."):]
		// spec.environments[].resources.<component>.requests.cpu
		if strings.HasPrefix(path, "spec.environments[]") {
			if _, after, ok := strings.Cut(rest, "."); ok {
				rest = after
			}
		}
		d, ok := resourceFieldDocs[rest]
		return d, ok
	}
	return "", false
}

// DefaultYAML is the full default config with a comment on every field.
func DefaultYAML() ([]byte, error) {
	return AnnotatedYAML(Default(),
		"gen configuration: every field shows its built-in default.",
		"Save as gen.yaml at the repository root, keep only what you change, then run gen render.")
}

// AnnotatedYAML writes doc (a Platform, or any value shaped like one, such as
// the few fields gen init sets) as YAML in the order of its JSON fields, with
// each field's description from FieldDocs above it and the header lines as
// comments on top (an empty line stays blank). A field without a description is an error, so the
// reference can never miss one.
func AnnotatedYAML(doc any, header ...string) ([]byte, error) {
	// JSON keeps the struct's field order (sigs.k8s.io/yaml would sort keys),
	// and JSON is YAML, so the node tree follows the order of the types.
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var node yamlv3.Node
	if err := yamlv3.Unmarshal(raw, &node); err != nil {
		return nil, err
	}
	plain(&node)
	var missing []string
	annotate(node.Content[0], "", &missing)
	if len(missing) > 0 {
		return nil, fmt.Errorf("config fields without a description: %s", strings.Join(missing, ", "))
	}
	var out bytes.Buffer
	for _, line := range header {
		if line == "" { // a blank line, not an empty comment
			out.WriteString("\n")
			continue
		}
		out.WriteString("# " + line + "\n")
	}
	enc := yamlv3.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// plain drops the JSON flow style and quotes; the encoder quotes again
// wherever a plain scalar would read as another type.
func plain(node *yamlv3.Node) {
	node.Style = 0
	for _, child := range node.Content {
		plain(child)
	}
}

// exampleComment renders example as the value of key, with the descriptions
// of its fields, as comment lines.
func exampleComment(key, path string, example any, missing *[]string) string {
	raw, err := json.Marshal(map[string]any{key: example})
	if err != nil {
		return "example: " + err.Error()
	}
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(raw, &doc); err != nil {
		return "example: " + err.Error()
	}
	plain(&doc)
	root := doc.Content[0]
	annotate(root.Content[1], path, missing)
	var out bytes.Buffer
	enc := yamlv3.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return "example: " + err.Error()
	}
	lines := []string{"for example:"}
	for _, line := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// annotate puts each field's description above its key.
func annotate(node *yamlv3.Node, path string, missing *[]string) {
	switch node.Kind {
	case yamlv3.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			key, value := node.Content[i], node.Content[i+1]
			p := key.Value
			if path != "" {
				p = path + "." + key.Value
			}
			if d, ok := Doc(p); ok {
				key.HeadComment = d
			} else {
				*missing = append(*missing, p)
			}
			if example, ok := Examples()[p]; ok && value.Kind == yamlv3.SequenceNode && len(value.Content) == 0 {
				key.HeadComment += "\n" + exampleComment(key.Value, p, example, missing)
			}
			annotate(value, p, missing)
		}
	case yamlv3.SequenceNode:
		for _, item := range node.Content {
			annotate(item, path+"[]", missing)
		}
	}
}
