package argocd

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/api/types"

	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/patch"
)

// Name of the component and namespace.
const Name = "argocd"

// InstallURL is the exact upstream install manifest of the pinned release.
func InstallURL(cfg config.Platform) string {
	a := cfg.Spec.ArgoCD
	return fmt.Sprintf("%s/v%s/manifests/install.yaml", a.ManifestsBaseURL, strings.TrimPrefix(a.Version, "v"))
}

// UpstreamImages are the image repositories of the Argo CD 3.x install
// manifests (server, repo-server, controllers, Dex, Redis). With a registry
// mirror configured, the base rewrites each to <mirror>/<repository>, keeping
// the release's tags; a test checks that no other image is left in the
// built overlay.
var UpstreamImages = []string{
	"ghcr.io/dexidp/dex",
	"public.ecr.aws/docker/library/redis",
	"quay.io/argoproj/argocd",
}

// Host is the Argo CD UI's host in env.
func Host(env config.Environment) string { return "argocd." + env.Domain }

// applicationHealth restores health assessment of Application resources
// (Argo CD removed it in 1.8), so the root app waits for its children's health
// and sync waves in the app-of-apps mean something.
const applicationHealth = `hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil and obj.status.health ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then
    hs.message = obj.status.health.message
  end
end
return hs
`

// Component renders Argo CD: the upstream install plus gen's patches.
func Component(cfg config.Platform) (component.Component, error) {
	ns := component.ArgoCDNamespace
	namespace := component.Namespace(ns, component.Baseline)
	// Argo CD manages this namespace; it must never prune the ground it stands on.
	namespace.Annotations = map[string]string{"argocd.argoproj.io/sync-options": "Prune=false"}

	labels := component.Labels("argocd-server", "server")
	ingress := &networkingv1.Ingress{
		TypeMeta:   component.TypeMeta("networking.k8s.io/v1", "Ingress"),
		ObjectMeta: component.Meta("argocd-server", ns, labels),
		Spec:       networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{component.IngressRule("", "argocd-server", "http")}},
	}
	// Traefik terminates TLS (or serves plain HTTP on the laptop), so the
	// server must not redirect to HTTPS itself.
	cmdParams, err := patch.StrategicMerge(&corev1.ConfigMap{
		TypeMeta:   component.TypeMeta("v1", "ConfigMap"),
		ObjectMeta: component.Meta("argocd-cmd-params-cm", "", nil), // no namespace: patches apply before namespace: does
		Data:       map[string]string{"server.insecure": "true"},
	})
	if err != nil {
		return component.Component{}, err
	}
	cm, err := patch.StrategicMerge(&corev1.ConfigMap{
		TypeMeta:   component.TypeMeta("v1", "ConfigMap"),
		ObjectMeta: component.Meta("argocd-cm", "", nil),
		Data: map[string]string{
			"resource.customizations.health.argoproj.io_Application": applicationHealth,
		},
	})
	if err != nil {
		return component.Component{}, err
	}
	var images []types.Image
	if cfg.Spec.Images.RegistryMirror != "" {
		for _, ref := range UpstreamImages {
			images = append(images, types.Image{Name: ref, NewName: component.Image(cfg.Spec.Images, ref)})
		}
	}
	return component.Component{
		Images:             images,
		Name:               Name,
		Namespace:          ns,
		Wave:               -1,
		KustomizeNamespace: ns,
		Remote:             []string{InstallURL(cfg)},
		Files: []component.File{
			{Name: "namespace.yaml", Objects: []any{namespace}},
			{Name: "ingress.yaml", Objects: []any{ingress}},
		},
		Patches: []types.Patch{cmdParams, cm},
		Overlay: func(env config.Environment) ([]types.Patch, error) {
			return []types.Patch{
				patch.IngressHosts(ingress.Name, env, Host(env)),
				patch.JSON6902("ConfigMap", "argocd-cm", patch.Op{Op: "add", Path: "/data/timeout.reconciliation", Value: env.ReconciliationTimeout}),
			}, nil
		},
	}, nil
}
