package bootstrap

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"os"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/rdspark/gen/bootstrap/progress"
	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
)

// secretLabels mark the Secrets gen creates outside Git.
var secretLabels = map[string]string{
	"app.kubernetes.io/part-of":    component.PartOf,
	"app.kubernetes.io/managed-by": "gen",
}

// secretNamespaces are where the object store credentials are read: the
// object-store namespace (the source, whichever store runs there), the
// History Server, and every job namespace, tenants' included.
func secretNamespaces(cfg config.Platform) []string {
	ns := []string{component.ObjectStoreNamespace, component.HistoryNamespace}
	return append(ns, cfg.AllJobNamespaces()...)
}

// plannedSecrets names every Secret bootstrap would create, for --dry-run.
func plannedSecrets(cfg config.Platform, git gitCredentials) []string {
	var names []string
	for _, ns := range secretNamespaces(cfg) {
		names = append(names, fmt.Sprintf("Secret/%s/%s", ns, cfg.Spec.MinIO.CredentialsSecret))
	}
	if git.set() {
		names = append(names, fmt.Sprintf("Secret/%s/%s", component.ArgoCDNamespace, repoSecretName))
	}
	return names
}

// ensureMinIOCredentials creates MinIO's root credentials once, in the minio
// namespace, and copies them under the same name into every namespace that
// reads them. An existing Secret is kept (never regenerated), so re-runs and
// resumed runs converge on the first credentials. Values are never printed.
func ensureMinIOCredentials(ctx context.Context, cs kubernetes.Interface, cfg config.Platform, p *progress.Printer) error {
	name := cfg.Spec.MinIO.CredentialsSecret
	source, err := cs.CoreV1().Secrets(component.MinIONamespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err) && cfg.Spec.ObjectStore.Type == config.ObjectStoreExternal:
		// An external store's keys come from its owner; random ones would never work.
		return fmt.Errorf("missing Secret %s/%s: with spec.objectStore.type external, create it with the store's access key first: "+
			"kubectl -n %s create secret generic %s --from-literal=%s=<access key id> --from-literal=%s=<secret access key>",
			component.MinIONamespace, name, component.MinIONamespace, name, component.CredentialsUserKey, component.CredentialsPasswordKey)
	case apierrors.IsNotFound(err):
		data, err := NewObjectStoreCredentials()
		if err != nil {
			return err
		}
		source = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: component.MinIONamespace, Labels: secretLabels},
			Type:       corev1.SecretTypeOpaque,
			Data:       data,
		}
		if source, err = cs.CoreV1().Secrets(component.MinIONamespace).Create(ctx, source, metav1.CreateOptions{FieldManager: "gen"}); err != nil {
			return fmt.Errorf("create Secret %s/%s: %w", component.MinIONamespace, name, err)
		}
		p.Infof("created Secret %s/%s (new random credentials)", component.MinIONamespace, name)
	case err != nil:
		return fmt.Errorf("read Secret %s/%s: %w", component.MinIONamespace, name, err)
	default:
		p.Debugf("kept Secret %s/%s", component.MinIONamespace, name)
	}
	for _, ns := range secretNamespaces(cfg)[1:] {
		if err := copySecret(ctx, cs, source, ns, p); err != nil {
			return err
		}
	}
	return nil
}

// copySecret makes ns hold a Secret with source's name and data.
func copySecret(ctx context.Context, cs kubernetes.Interface, source *corev1.Secret, ns string, p *progress.Printer) error {
	secrets := cs.CoreV1().Secrets(ns)
	existing, err := secrets.Get(ctx, source.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		cp := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: source.Name, Namespace: ns, Labels: secretLabels},
			Type:       source.Type,
			Data:       source.Data,
		}
		if _, err := secrets.Create(ctx, cp, metav1.CreateOptions{FieldManager: "gen"}); err != nil {
			return fmt.Errorf("create Secret %s/%s: %w", ns, source.Name, err)
		}
		p.Infof("created Secret %s/%s (copy)", ns, source.Name)
	case err != nil:
		return fmt.Errorf("read Secret %s/%s: %w", ns, source.Name, err)
	case !sameData(existing.Data, source.Data):
		existing.Data = source.Data
		if _, err := secrets.Update(ctx, existing, metav1.UpdateOptions{FieldManager: "gen"}); err != nil {
			return fmt.Errorf("update Secret %s/%s: %w", ns, source.Name, err)
		}
		p.Infof("updated Secret %s/%s to match %s/%s", ns, source.Name, source.Namespace, source.Name)
	}
	return nil
}

func sameData(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// NewObjectStoreCredentials returns the data of a new object store
// credentials Secret, as gen bootstrap creates it: the fixed user and a
// random 40-character password. Exported so that the tests that run the real
// MinIO and SeaweedFS start them with credentials of exactly this shape.
func NewObjectStoreCredentials() (map[string][]byte, error) {
	password, err := randomString(40)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		component.CredentialsUserKey:     []byte("spark-admin"),
		component.CredentialsPasswordKey: []byte(password),
	}, nil
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomString(n int) (string, error) {
	out := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range out {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("generate credentials: %w", err)
		}
		out[i] = alphabet[k.Int64()]
	}
	return string(out), nil
}

// gitCredentials are for a private repository: a token (HTTPS) or an SSH key.
type gitCredentials struct {
	token      string
	sshKeyPath string
}

func (g gitCredentials) set() bool { return g.token != "" || g.sshKeyPath != "" }

// repoSecretName is the Argo CD repository Secret gen creates.
const repoSecretName = "gen-repository"

// ensureRepoCredentials writes the Argo CD repository Secret for repoURL
// (label argocd.argoproj.io/secret-type=repository), replacing what a
// previous run wrote, so a rotated token takes effect.
func ensureRepoCredentials(ctx context.Context, cs kubernetes.Interface, repoURL string, g gitCredentials, p *progress.Printer) error {
	data := map[string][]byte{"type": []byte("git"), "url": []byte(repoURL)}
	if g.token != "" {
		// GitHub, GitLab and Gitea accept any user name with a token as password.
		data["username"] = []byte("git")
		data["password"] = []byte(g.token)
	} else {
		key, err := os.ReadFile(g.sshKeyPath)
		if err != nil {
			return fmt.Errorf("--ssh-key: %w", err)
		}
		data["sshPrivateKey"] = key
	}
	labels := map[string]string{"argocd.argoproj.io/secret-type": "repository"}
	for k, v := range secretLabels {
		labels[k] = v
	}
	want := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: repoSecretName, Namespace: component.ArgoCDNamespace, Labels: labels},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
	secrets := cs.CoreV1().Secrets(component.ArgoCDNamespace)
	existing, err := secrets.Get(ctx, repoSecretName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if _, err := secrets.Create(ctx, want, metav1.CreateOptions{FieldManager: "gen"}); err != nil {
			return fmt.Errorf("create Secret argocd/%s: %w", repoSecretName, err)
		}
		p.Infof("created Secret argocd/%s (repository credentials)", repoSecretName)
	case err != nil:
		return fmt.Errorf("read Secret argocd/%s: %w", repoSecretName, err)
	case !sameData(existing.Data, data):
		existing.Data, existing.Labels = data, labels
		if _, err := secrets.Update(ctx, existing, metav1.UpdateOptions{FieldManager: "gen"}); err != nil {
			return fmt.Errorf("update Secret argocd/%s: %w", repoSecretName, err)
		}
		p.Infof("updated Secret argocd/%s (repository credentials)", repoSecretName)
	}
	return nil
}
