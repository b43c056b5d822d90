package generator

import (
	"github.com/rdspark/gen/generator/argocd"
	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/history"
	"github.com/rdspark/gen/generator/minio"
	"github.com/rdspark/gen/generator/seaweedfs"
)

// Entrypoint is a UI or API the tree serves through an Ingress.
type Entrypoint struct {
	// Name is what users call it ("Argo CD", "MinIO console").
	Name string
	// Namespace and Ingress name the Ingress that serves Host.
	Namespace, Ingress string
	Host               string
	// URL is Host with the environment's scheme (https with TLS).
	URL string
}

// Entrypoints are the UIs of cfg's tree in env, in the order gen prints them:
// Argo CD, the object store's (none for an external store), the History Server.
func Entrypoints(cfg config.Platform, env config.Environment) []Entrypoint {
	entry := func(name, ns, ingress, host string) Entrypoint {
		return Entrypoint{Name: name, Namespace: ns, Ingress: ingress, Host: host, URL: env.URL(host)}
	}
	out := []Entrypoint{entry("Argo CD", component.ArgoCDNamespace, "argocd-server", argocd.Host(env))}
	switch cfg.Spec.ObjectStore.Type {
	case config.ObjectStoreMinIO:
		out = append(out, entry("MinIO console", component.ObjectStoreNamespace, minio.Name, minio.ConsoleHost(env)))
	case config.ObjectStoreSeaweedFS:
		out = append(out, entry("SeaweedFS S3 API", component.ObjectStoreNamespace, seaweedfs.Name, seaweedfs.APIHost(env)))
	}
	return append(out, entry("Spark History Server", component.HistoryNamespace, history.Name, history.Host(env)))
}
