// Package doctor diagnoses a platform: the checks of the old `make validate`
// (namespaces, pods of each component, the Spark Operator CRDs, Ingresses)
// and bootstrap's preflight, each failure with its likely cause and the fix
// (the troubleshooting cases users hit: the History Server crash-looping on a
// missing S3A class or a missing log directory, the custom image not pulled,
// sslip.io not resolving, webhook certificates).
package doctor

import (
	"context"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/sparkoperator"
)

// Severity of a finding.
type Severity string

// Severities: a failure makes doctor exit non-zero, a warning does not.
const (
	OK      Severity = "ok"
	Warning Severity = "warning"
	Failure Severity = "failure"
)

// Finding is the result of one check.
type Finding struct {
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	// Problem is what is wrong; Cause the likely reason; Fix what to do.
	Problem string `json:"problem,omitempty"`
	Cause   string `json:"cause,omitempty"`
	Fix     string `json:"fix,omitempty"`
}

// Options of a diagnosis.
type Options struct {
	Config      config.Platform
	Environment string
	// LookupHost resolves Ingress hosts; net.DefaultResolver when nil.
	LookupHost func(ctx context.Context, host string) ([]string, error)
}

// Run runs every check and returns the findings in check order.
func Run(ctx context.Context, restCfg *rest.Config, o Options) ([]Finding, error) {
	cfg := o.Config
	cfg.Complete()
	env, ok := cfg.Environment(o.Environment)
	if !ok {
		return nil, fmt.Errorf("unknown environment %q", o.Environment)
	}
	if o.LookupHost == nil {
		o.LookupHost = net.DefaultResolver.LookupHost
	}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return nil, err
	}
	d := &doctor{ctx: ctx, cs: cs, restCfg: restCfg, cfg: cfg, env: env, lookup: o.LookupHost}
	if !d.server() {
		return d.findings, nil // nothing else can be checked
	}
	d.capacity()
	d.sparkImage()
	d.namespaces()
	d.crds()
	d.argoCD()
	d.pods()
	d.webhook()
	d.ingresses()
	return d.findings, nil
}

type doctor struct {
	ctx      context.Context
	cs       kubernetes.Interface
	restCfg  *rest.Config
	cfg      config.Platform
	env      config.Environment
	lookup   func(context.Context, string) ([]string, error)
	findings []Finding
}

func (d *doctor) ok(check string) {
	d.findings = append(d.findings, Finding{Check: check, Severity: OK})
}

func (d *doctor) fail(check, problem, cause, fix string) {
	d.findings = append(d.findings, Finding{check, Failure, problem, cause, fix})
}

func (d *doctor) warn(check, problem, cause, fix string) {
	d.findings = append(d.findings, Finding{check, Warning, problem, cause, fix})
}

func (d *doctor) server() bool {
	v, err := d.cs.Discovery().ServerVersion()
	if err != nil {
		d.fail("API server", err.Error(), "the cluster is not running or the kubeconfig points elsewhere",
			"start Rancher Desktop with Kubernetes enabled, then check kubectl --context rancher-desktop get nodes")
		return false
	}
	d.ok("API server " + v.GitVersion)
	nodes, err := d.cs.CoreV1().Nodes().List(d.ctx, metav1.ListOptions{})
	if err == nil && d.env.NodeIP != "" && len(nodes.Items) > 0 {
		var ips []string
		for _, n := range nodes.Items {
			for _, a := range n.Status.Addresses {
				if a.Type == corev1.NodeInternalIP {
					ips = append(ips, a.Address)
				}
			}
		}
		if len(ips) > 0 && !contains(ips, d.env.NodeIP) {
			d.warn("node address", fmt.Sprintf("nodes have InternalIP %s, the config says %s", strings.Join(ips, ", "), d.env.NodeIP),
				"the VM got another address (Rancher Desktop network settings changed)",
				fmt.Sprintf("set spec.environments[].nodeIP: %s for %s in gen.yaml, gen render, commit and push", ips[0], d.env.Name))
		}
	}
	return true
}

// namespaces: each must exist and not be stuck terminating.
// capacity compares what the platform's pods request with what the nodes
// offer: a laptop VM smaller than the platform leaves pods Pending.
func (d *doctor) capacity() {
	const check = "node capacity"
	ms, err := generator.Render(d.cfg)
	if err != nil {
		d.fail(check, "cannot render the config: "+err.Error(), "gen.yaml is invalid", "run gen config validate")
		return
	}
	b, err := generator.Budget(d.cfg, ms, d.env)
	if err != nil {
		d.fail(check, err.Error(), "the rendered tree does not build", "run gen render and read its error")
		return
	}
	nodes, err := d.cs.CoreV1().Nodes().List(d.ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		d.warn(check, "cannot list the nodes", fmt.Sprint(err), "check the kubeconfig's permissions")
		return
	}
	if short := b.NodesShortfall(nodes.Items); short != "" {
		d.fail(check, short, "the VM is smaller than the platform's requests ("+b.Summary()+")", "Rancher Desktop: Preferences > Virtual Machine, then Apply; or lower the requests in gen.yaml")
		return
	}
	d.ok(check)
}

func (d *doctor) namespaces() {
	want := append([]string{component.ArgoCDNamespace}, config.PlatformNamespaces[1:]...)
	want = append(want, d.cfg.AllJobNamespaces()...)
	for _, name := range want {
		ns, err := d.cs.CoreV1().Namespaces().Get(d.ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			d.fail("namespace "+name, "missing", "gen bootstrap has not run, or Argo CD has not synced the namespaces Application",
				"run gen bootstrap, then gen status --wait")
		case err != nil:
			d.fail("namespace "+name, err.Error(), "", "")
		case ns.Status.Phase == corev1.NamespaceTerminating:
			var why []string
			for _, c := range ns.Status.Conditions {
				if c.Status == corev1.ConditionTrue {
					why = append(why, c.Message)
				}
			}
			d.fail("namespace "+name, "stuck terminating since "+ns.DeletionTimestamp.String(), strings.Join(why, "; "),
				fmt.Sprintf("kubectl get all -n %s shows what is left; remove the finalizers that block it, or wait for gen teardown to finish", name))
		default:
			d.ok("namespace " + name)
		}
	}
}

func (d *doctor) crds() {
	client, err := crdClient(d.restCfg)
	if err != nil {
		d.fail("CRDs", err.Error(), "", "")
		return
	}
	names := []string{"applications.argoproj.io", "appprojects.argoproj.io"}
	for _, f := range sparkoperator.CRDFiles {
		// sparkoperator.k8s.io_sparkapplications.yaml -> sparkapplications.sparkoperator.k8s.io
		plural := strings.TrimSuffix(strings.TrimPrefix(f, "sparkoperator.k8s.io_"), ".yaml")
		names = append(names, plural+".sparkoperator.k8s.io")
	}
	for _, name := range names {
		established, err := client.established(d.ctx, name)
		switch {
		case apierrors.IsNotFound(err):
			cause, fix := "the spark-crds Application has not synced", "gen status shows why; argocd app sync spark-crds"
			if strings.HasSuffix(name, "argoproj.io") {
				cause, fix = "Argo CD is not installed", "run gen bootstrap"
			}
			d.fail("CRD "+name, "missing", cause, fix)
		case err != nil:
			d.fail("CRD "+name, err.Error(), "", "")
		case !established:
			d.fail("CRD "+name, "not Established", "the API server has not accepted its schema yet", "wait a minute; kubectl describe crd "+name)
		default:
			d.ok("CRD " + name)
		}
	}
}

func (d *doctor) argoCD() {
	s, err := d.cs.AppsV1().StatefulSets(component.ArgoCDNamespace).Get(d.ctx, "argocd-application-controller", metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		d.fail("Argo CD", "argocd-application-controller is missing", "gen bootstrap has not run (or stopped early)", "run gen bootstrap")
	case err != nil:
		d.fail("Argo CD", err.Error(), "", "")
	case s.Status.ReadyReplicas < 1:
		d.fail("Argo CD", "argocd-application-controller is not ready", "its pod is not running (see the pod checks)", "kubectl -n argocd describe pod -l app.kubernetes.io/name=argocd-application-controller")
	default:
		d.ok("Argo CD application controller")
	}
}

// pods: waiting and crash-looping containers, with the cause where known.
func (d *doctor) pods() {
	for _, ns := range []string{component.ArgoCDNamespace, component.MinIONamespace, component.SparkOperatorNamespace, component.HistoryNamespace} {
		pods, err := d.cs.CoreV1().Pods(ns).List(d.ctx, metav1.ListOptions{})
		if err != nil {
			d.fail("pods in "+ns, err.Error(), "", "")
			continue
		}
		sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
		healthy := true
		for _, pod := range pods.Items {
			for _, c := range pod.Status.ContainerStatuses {
				if c.State.Waiting == nil {
					continue
				}
				healthy = false
				d.container(pod, c)
			}
		}
		if healthy {
			d.ok(fmt.Sprintf("pods in %s (%d)", ns, len(pods.Items)))
		}
	}
}

func (d *doctor) container(pod corev1.Pod, c corev1.ContainerStatus) {
	check := fmt.Sprintf("pod %s/%s", pod.Namespace, pod.Name)
	reason := c.State.Waiting.Reason
	switch reason {
	case "ImagePullBackOff", "ErrImagePull", "InvalidImageName":
		if strings.Contains(c.Image, d.cfg.Spec.Spark.Image) {
			d.fail(check, reason+" for "+c.Image, "the Spark + S3A image is built locally, not pulled from a registry",
				"make image (builds image/Dockerfile into Rancher Desktop's image store), then kubectl -n spark-history rollout restart deployment/spark-history")
			return
		}
		d.fail(check, reason+" for "+c.Image, "the image cannot be pulled: no network, a typo, or a registry mirror that lacks it",
			"kubectl -n "+pod.Namespace+" describe pod "+pod.Name+" shows the pull error; check spec.images.registryMirror")
	case "CrashLoopBackOff":
		if pod.Namespace == component.HistoryNamespace {
			cause, fix := d.historyCrash(pod, c.Name)
			d.fail(check, "CrashLoopBackOff", cause, fix)
			return
		}
		d.fail(check, "CrashLoopBackOff", "the container exits at start", "kubectl -n "+pod.Namespace+" logs --previous "+pod.Name)
	case "CreateContainerConfigError":
		d.fail(check, reason+": "+c.State.Waiting.Message, "a Secret or ConfigMap it reads is missing (the MinIO credentials are created by gen bootstrap)",
			"run gen bootstrap again: it recreates missing credential copies")
	default:
		d.warn(check, reason+": "+c.State.Waiting.Message, "the container is not running yet", "kubectl -n "+pod.Namespace+" describe pod "+pod.Name)
	}
}

// historyCrash reads the History Server's last logs for the two known causes.
func (d *doctor) historyCrash(pod corev1.Pod, container string) (cause, fix string) {
	tail := int64(300)
	raw, err := d.cs.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: container, Previous: true, TailLines: &tail}).DoRaw(d.ctx)
	logs := string(raw)
	switch {
	case err != nil:
		return "its logs could not be read (" + err.Error() + ")", "kubectl -n spark-history logs --previous " + pod.Name
	case strings.Contains(logs, "S3AFileSystem") && (strings.Contains(logs, "ClassNotFoundException") || strings.Contains(logs, "not found")):
		return "the image lacks hadoop-aws and the AWS SDK bundle (org.apache.hadoop.fs.s3a.S3AFileSystem not found)",
			"use the image built from image/ (make image), not a plain apache/spark image"
	case strings.Contains(logs, "Log directory") && strings.Contains(logs, "does not exist"), strings.Contains(logs, "FileNotFoundException"):
		store := d.cfg.Spec.ObjectStore.Type
		if store == config.ObjectStoreExternal {
			return fmt.Sprintf("the event-log directory %s does not exist in the external store", d.cfg.Spec.HistoryServer.LogDirectory),
				"create the bucket and an object under the prefix (README.md, \"Object store\"); gen does not create them in an external store"
		}
		return fmt.Sprintf("the event-log directory %s does not exist in %s", d.cfg.Spec.HistoryServer.LogDirectory, store),
			fmt.Sprintf("the bucket Job creates it: kubectl -n minio get jobs; kubectl -n minio logs job/<%s-bucket-...>; it runs when the %s Application syncs", store, store)
	case strings.Contains(logs, "403") || strings.Contains(logs, "InvalidAccessKeyId") || strings.Contains(logs, "SignatureDoesNotMatch"):
		return "the object store refused the credentials", fmt.Sprintf("the %s Secret in spark-history must equal the one in minio: run gen bootstrap again", d.cfg.Spec.MinIO.CredentialsSecret)
	default:
		return "see its logs", "kubectl -n spark-history logs --previous " + pod.Name
	}
}

// webhook: with the webhook on, its certificate Secret exists and its CA is
// injected; otherwise every SparkApplication is refused ("failed calling webhook").
func (d *doctor) webhook() {
	if !d.cfg.Spec.SparkOperator.Webhook {
		return
	}
	ns := component.SparkOperatorNamespace
	if _, err := d.cs.CoreV1().Secrets(ns).Get(d.ctx, "spark-operator-webhook-certs", metav1.GetOptions{}); apierrors.IsNotFound(err) {
		d.fail("Spark Operator webhook", "its certificate Secret spark-operator-webhook-certs is missing",
			"the webhook has not started (it creates the Secret itself)", "kubectl -n spark-operator logs deploy/spark-operator-webhook")
		return
	}
	m, err := d.cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(d.ctx, "spark-operator-webhook", metav1.GetOptions{})
	if err != nil {
		d.fail("Spark Operator webhook", err.Error(), "the spark-operator Application has not synced", "gen status")
		return
	}
	for _, w := range m.Webhooks {
		if len(w.ClientConfig.CABundle) == 0 {
			d.fail("Spark Operator webhook", "no caBundle in "+w.Name,
				"the webhook has not injected its CA yet, or Argo CD overwrote it (the Application must ignore caBundle)",
				"kubectl -n spark-operator rollout restart deploy/spark-operator-webhook; SparkApplications fail with x509 errors until then")
			return
		}
	}
	d.ok("Spark Operator webhook certificate")
}

func (d *doctor) ingresses() {
	hosts := map[string]string{}
	for _, e := range generator.Entrypoints(d.cfg, d.env) {
		hosts[e.Namespace+"/"+e.Ingress] = e.Host
	}
	keys := make([]string, 0, len(hosts))
	for k := range hosts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		ns, name, _ := strings.Cut(key, "/")
		host := hosts[key]
		ing, err := d.cs.NetworkingV1().Ingresses(ns).Get(d.ctx, name, metav1.GetOptions{})
		if err != nil {
			d.fail("ingress "+key, "missing", "its Application has not synced", "gen status")
			continue
		}
		found := false
		for _, r := range ing.Spec.Rules {
			found = found || r.Host == host
		}
		if !found {
			d.fail("ingress "+key, "does not serve "+host, "the tree in Git was rendered for another domain", "gen render, commit and push")
			continue
		}
		addrs, err := d.lookup(d.ctx, host)
		switch {
		case err != nil:
			d.warn("DNS "+host, "does not resolve: "+err.Error(),
				"sslip.io needs internet access, and some routers and DNS filters drop answers that are private addresses (DNS rebinding protection)",
				fmt.Sprintf("allow sslip.io in your DNS filter, or add '%s %s' to /etc/hosts", d.env.NodeIP, host))
		case d.env.NodeIP != "" && !contains(addrs, d.env.NodeIP):
			d.warn("DNS "+host, "resolves to "+strings.Join(addrs, ", ")+", not "+d.env.NodeIP, "the domain does not encode the node address", "set spec.environments[].domain, or nodeIP, in gen.yaml")
		default:
			d.ok("ingress " + key + " (" + host + ")")
		}
	}
}

// Print writes the findings; it returns the number of failures.
func Print(w io.Writer, findings []Finding) int {
	failures := 0
	for _, f := range findings {
		switch f.Severity {
		case OK:
			fmt.Fprintf(w, "✓ %s\n", f.Check)
			continue
		case Warning:
			fmt.Fprintf(w, "! %s: %s\n", f.Check, f.Problem)
		case Failure:
			failures++
			fmt.Fprintf(w, "✗ %s: %s\n", f.Check, f.Problem)
		}
		if f.Cause != "" {
			fmt.Fprintf(w, "    likely cause: %s\n", f.Cause)
		}
		if f.Fix != "" {
			fmt.Fprintf(w, "    fix: %s\n", f.Fix)
		}
	}
	return failures
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
