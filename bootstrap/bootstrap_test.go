package bootstrap

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/rdspark/gen/generator/config"
)

// fakeAPIServer answers the read-only requests of preflight on loopback (the
// version, SelfSubjectAccessReviews, the IngressClass, the node list) and
// records every other request, so a test can see that nothing was written.
type fakeAPIServer struct {
	*httptest.Server
	node corev1.Node

	mu     sync.Mutex
	others []string
}

func startFakeAPIServer(t *testing.T, node corev1.Node) *fakeAPIServer {
	t.Helper()
	f := &fakeAPIServer{node: node}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPIServer) serve(w http.ResponseWriter, r *http.Request) {
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/version":
		reply(map[string]string{"major": "1", "minor": "35", "gitVersion": "v1.35.4"})
	case r.Method == http.MethodPost && r.URL.Path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews":
		reply(map[string]any{"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "status": map[string]any{"allowed": true}})
	case r.Method == http.MethodGet && r.URL.Path == "/apis/networking.k8s.io/v1/ingressclasses/traefik":
		reply(map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": map[string]any{"name": "traefik"}})
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/nodes":
		f.node.APIVersion, f.node.Kind = "v1", "Node"
		reply(corev1.NodeList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "NodeList"}, Items: []corev1.Node{f.node}})
	default:
		f.mu.Lock()
		f.others = append(f.others, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		http.NotFound(w, r)
	}
}

func (f *fakeAPIServer) writes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, o := range f.others {
		if !strings.HasPrefix(o, "GET ") {
			out = append(out, o)
		}
	}
	return out
}

func laptopNode() corev1.Node {
	return corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "lima-rancher-desktop"},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: config.DefaultEnvironment().NodeIP},
		}},
	}
}

// closedURL is a loopback URL nobody listens on: what an offline laptop sees.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func offlineConfig(t *testing.T) config.Platform {
	cfg := config.Default()
	cfg.Spec.ArgoCD.ManifestsBaseURL = closedURL(t) + "/argo-cd"
	cfg.Complete()
	return cfg
}

// An unreachable upstream URL: preflight runs first (and passes), then one
// line names the cause, the URL and both ways out; nothing is written.
func TestUnreachableInstallURLIsOneLine(t *testing.T) {
	api := startFakeAPIServer(t, laptopNode())
	cfg := offlineConfig(t)
	var out bytes.Buffer
	err := Run(context.Background(), Options{
		Config: cfg, Environment: "rancher-desktop", RESTConfig: &rest.Config{Host: api.URL},
		Out: &out, Wait: true, Timeout: time.Minute,
	})
	if err == nil {
		t.Fatal("bootstrap succeeded with an unreachable Argo CD install URL")
	}
	msg := err.Error()
	url := cfg.Spec.ArgoCD.ManifestsBaseURL + "/v" + cfg.Spec.ArgoCD.Version + "/manifests/install.yaml"
	for _, want := range []string{"cannot download the Argo CD install (connection refused) from " + url, "--argocd-manifests FILE", "argocd.manifestsBaseURL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	// The step's name, then the cause, as every step's error reads.
	if !strings.HasPrefix(msg, StepFetch+": cannot download") {
		t.Errorf("error does not start with the step and its cause:\n%s", msg)
	}
	if strings.Contains(msg, "\n") || len(msg) > 400 {
		t.Errorf("error is %d characters over %d lines, want one short line:\n%s", len(msg), strings.Count(msg, "\n")+1, msg)
	}
	if !strings.Contains(out.String(), "preflight") {
		t.Errorf("preflight did not run before the download:\n%s", out.String())
	}
	if w := api.writes(); len(w) > 0 {
		t.Errorf("bootstrap wrote to the cluster although it could not download the install: %v", w)
	}
}

// With the cluster down as well, preflight's error comes first: nothing is
// downloaded for a cluster that is not there.
func TestPreflightBeforeDownload(t *testing.T) {
	var out bytes.Buffer
	start := time.Now()
	err := Run(context.Background(), Options{
		Config: offlineConfig(t), Environment: "rancher-desktop", RESTConfig: &rest.Config{Host: closedURL(t)}, Out: &out,
	})
	if err == nil || !strings.HasPrefix(err.Error(), "preflight: API server not reachable (connection refused) at http://127.0.0.1:") || strings.Contains(err.Error(), "\n") {
		t.Errorf("err = %v, want preflight's, on one line", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestShortCause(t *testing.T) {
	_, err := get(context.Background(), closedURL(t)+"/x")
	if err == nil || err.Error() != "connection refused" {
		t.Errorf("closed port: %v, want connection refused", err)
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	if _, err := get(context.Background(), srv.URL+"/x"); err == nil || err.Error() != "HTTP 404 Not Found" {
		t.Errorf("404: %v", err)
	}
	if _, err := downloadInstall(context.Background(), srv.URL+"/x"); err == nil || !strings.Contains(err.Error(), "(HTTP 404 Not Found) from "+srv.URL+"/x") {
		t.Errorf("404 install: %v", err)
	}
}

// The steps are one list: the progress lines and the resume points follow
// it, in this order (the integration tests stop a run after each).
func TestStepsInOrder(t *testing.T) {
	want := []string{StepPreflight, StepFetch, StepArgoCD, StepSecrets, StepWait, StepRoot}
	if got := Steps(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Steps() = %v, want %v", got, want)
	}
}
