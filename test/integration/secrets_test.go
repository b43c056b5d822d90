//go:build linux

package integration

import (
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/tree"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/testnode"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// leakPatterns find credentials that are not known in advance: key
// material, a password or token written as a value, and base64 blobs
// (Secret data is base64 in every YAML or JSON form of a Secret).
var leakPatterns = map[string]*regexp.Regexp{
	"private key":           regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`),
	"password value":        regexp.MustCompile(`(?i)\bpassword["']?[ \t]*[:=][ \t]*["']?[^\s"'{}]`),
	"token value":           regexp.MustCompile(`(?i)\b(token|secret)["']?[ \t]*[:=][ \t]*["']?[A-Za-z0-9+/_.-]{16,}`),
	"AWS-style secret key":  regexp.MustCompile(`(?i)aws_secret_access_key["']?[ \t]*[:=][ \t]*["']?[^\s"'{}]`),
	"basic auth in a URL":   regexp.MustCompile(`://[^/\s:@]+:[^/\s:@]+@`),
	"Secret data in a YAML": regexp.MustCompile(`(?m)^\s*(data|stringData):\s*\n(\s+[A-Za-z0-9._-]+:\s*\S+\n)*\s+(rootPassword|password|sshPrivateKey|rootUser):`),
}

// base64Blob is a run of the base64 alphabet long enough to hold a
// credential; blobs that are plain hex (digests, checksums) are not flagged.
var (
	base64Blob = regexp.MustCompile(`[A-Za-z0-9+/]{32,}={0,2}`)
	hexOnly    = regexp.MustCompile(`^[0-9a-fA-F]+$`)
)

// findLeaks lists every known secret (as is, and in each base64 form) and
// every generic pattern found in text.
func findLeaks(text string, known map[string]string) []string {
	var found []string
	for name, secret := range known {
		forms := map[string]string{
			"":                          secret,
			" (base64)":                 base64.StdEncoding.EncodeToString([]byte(secret)),
			" (base64, no padding)":     base64.RawStdEncoding.EncodeToString([]byte(secret)),
			" (base64 URL, no padding)": base64.RawURLEncoding.EncodeToString([]byte(secret)),
		}
		for form, s := range forms {
			if s != "" && strings.Contains(text, s) {
				found = append(found, name+form)
			}
		}
	}
	for name, re := range leakPatterns {
		if m := re.FindString(text); m != "" {
			found = append(found, fmt.Sprintf("%s: %q", name, m))
		}
	}
	for _, blob := range base64Blob.FindAllString(text, -1) {
		if !hexOnly.MatchString(blob) && mixedAlphabet(blob) {
			found = append(found, fmt.Sprintf("a base64 blob: %q", blob))
		}
	}
	return found
}

// scanForLeaks fails the test for every leak in text, which is named what.
func scanForLeaks(t *testing.T, what, text string, known map[string]string) {
	t.Helper()
	for _, leak := range findLeaks(text, known) {
		t.Errorf("%s holds %s", what, leak)
	}
}

// mixedAlphabet: upper and lower case letters and digits, as random bytes in
// base64 have (a long word or a path segment does not).
func mixedAlphabet(s string) bool {
	var upper, lower, digit bool
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		}
	}
	return upper && lower && digit
}

// TestScannerFindsLeaks is the negative control: each kind of leak the scan
// looks for is found in a text that has it.
func TestScannerFindsLeaks(t *testing.T) {
	known := map[string]string{"the password": "s3cr3t-Pa55word-0123456789abcdef"}
	leaks := []string{
		"password is s3cr3t-Pa55word-0123456789abcdef\n",
		"rootPassword: " + base64.StdEncoding.EncodeToString([]byte(known["the password"])) + "\n",
		"-----BEGIN OPENSSH PRIVATE KEY-----\n",
		"password: hunter2\n",
		`{"token": "ghp_0123456789abcdefABCDEF"}`,
		"AWS_SECRET_ACCESS_KEY=abc\n",
		"https://git:tok@github.com/me/repo.git\n",
		"apiVersion: v1\nkind: Secret\ndata:\n  rootUser: c3Bhcms=\n  rootPassword: eA==\n",
		"blob QWxhZGRpbjpvcGVuIHNlc2FtZQ0KQWxhZGRpbjpvcGVuIHNlc2FtZQ== end\n",
	}
	for _, text := range leaks {
		if len(findLeaks(text, known)) == 0 {
			t.Errorf("no leak found in %q", text)
		}
	}
	clean := "key: rootPassword\nautomountServiceAccountToken: false\nimage: x@sha256:" + strings.Repeat("ab12", 16) + "\n" +
		"Argo CD admin password:\n  kubectl -n argocd get secret argocd-initial-admin-secret -o jsonpath='{.data.password}' | base64 -d\n"
	if found := findLeaks(clean, known); len(found) != 0 {
		t.Errorf("false alarms in clean text: %v", found)
	}
}

// TestNoCredentialInTreeOrOutput bootstraps a real API server through the
// CLI with -v (a Git token, then a rotated one, then an SSH key, then a dry
// run, while a stand-in kubelet lets the wait step report progress), reads
// the MinIO password back from the cluster, and scans gen's stdout and
// stderr of every run, the rendered tree, and the committed tree for it, for
// the tokens and the key, and for generic credential patterns. It also
// checks that no Secret with data is in any built overlay.
func TestNoCredentialInTreeOrOutput(t *testing.T) {
	cluster := testcluster.Start(t)
	cfg := upstreamtest.Config(t)
	dir := configDir(t, cfg)
	testnode.StartNode(t, kubernetes.NewForConfigOrDie(cluster.RestConfig()))

	const (
		token   = "ghp_LeakCanary0123456789abcdefABCDEF"
		rotated = "ghp_RotatedCanary9876543210fedcbaFEDCBA"
	)
	keyPath := filepath.Join(t.TempDir(), "id_ed25519")
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAACanaryKeyMaterial0123456789\n-----END OPENSSH PRIVATE KEY-----\n"
	if err := os.WriteFile(keyPath, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"bootstrap", "-v", "--repo-url", testRepo, "--revision", testRevision, "--timeout", "2m"}
	runs := [][]string{
		append(append([]string{}, common...), "--git-token", token),
		append(append([]string{}, common...), "--git-token", rotated),
		append(append([]string{}, common...), "--ssh-key", keyPath),
		append(append([]string{}, common...), "--git-token", token, "--dry-run"),
	}
	var outputs []string
	for i, args := range runs {
		stdout, stderr, code := gen(t, dir, cluster, args...)
		if code != 0 {
			t.Fatalf("run %d (%s): exit %d\n%s", i+1, strings.Join(args, " "), code, stderr)
		}
		outputs = append(outputs, "stdout:\n"+stdout, "stderr:\n"+stderr)
	}

	cs := kubernetes.NewForConfigOrDie(cluster.RestConfig())
	minio, err := cs.CoreV1().Secrets("minio").Get(context.Background(), "minio-root", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	password := string(minio.Data["rootPassword"])
	if len(password) < 32 {
		t.Fatalf("MinIO password of %d characters", len(password))
	}
	repo, err := cs.CoreV1().Secrets("argocd").Get(context.Background(), "gen-repository", metav1.GetOptions{})
	if err != nil || !strings.Contains(string(repo.Data["sshPrivateKey"]), "CanaryKeyMaterial") {
		t.Fatalf("the last run did not store the SSH key (%v): the scan would prove nothing", err)
	}
	known := map[string]string{
		"the MinIO password":   password,
		"the Git token":        token,
		"the rotated token":    rotated,
		"the SSH key material": "b3BlbnNzaC1rZXktdjEAAAAACanaryKeyMaterial0123456789",
	}

	scanned, bytes := 0, 0
	for i, out := range outputs {
		scanForLeaks(t, "bootstrap run "+string(rune('1'+i/2))+" "+strings.SplitN(out, ":", 2)[0], out, known)
		scanned++
		bytes += len(out)
	}
	if !strings.Contains(strings.Join(outputs, ""), "created Secret minio/minio-root") {
		t.Error("the output does not mention the Secrets at all: is -v output captured?")
	}

	rendered := filepath.Join(t.TempDir(), "tree")
	ms, err := generator.Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.Write(rendered, generator.Roots, ms); err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{rendered, filepath.Join("..", "..")} {
		for _, sub := range generator.Roots {
			err := filepath.WalkDir(filepath.Join(root, sub), func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				scanForLeaks(t, p, string(b), known)
				scanned++
				bytes += len(b)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}

	secrets := 0
	for _, env := range cfg.EnvironmentNames() {
		overlay, examples := renderedTree(t, cfg, env)
		for _, o := range append(overlay, examples...) {
			if o.GetKind() != "Secret" {
				continue
			}
			secrets++
			for _, f := range []string{"data", "stringData"} {
				if v, ok := o.Object[f].(map[string]any); ok && len(v) > 0 {
					t.Errorf("%s/%s in overlay %s carries %s (%d keys): Secrets never enter Git", o.GetNamespace(), o.GetName(), env, f, len(v))
				}
			}
		}
	}
	t.Logf("scanned %d texts (%d KiB): %d bootstrap outputs, the rendered and the committed tree; %d known secrets in 4 encodings, %d generic patterns; %d Secret objects in the built overlays, none with data",
		scanned, bytes>>10, len(outputs), len(known), len(leakPatterns)+1, secrets)
}
