package initconfig

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/rdspark/gen/bootstrap"
	"github.com/rdspark/gen/bootstrap/progress"
	"github.com/rdspark/gen/generator/config"
)

// Options of gen init.
type Options struct {
	// Dir is the Git checkout (default: the current folder).
	Dir string
	// Path is the file to write (default: Dir/gen.yaml). It must not exist.
	Path string
	// RepoURL and Revision, when set, are used instead of the origin remote
	// and the current branch.
	RepoURL, Revision string
	// KeepSSH keeps an SSH origin as it is (Argo CD then needs a key:
	// gen bootstrap --ssh-key).
	KeepSSH bool
	// NodeIP looks up the laptop's node address; nil or an error leaves the
	// default. The command connects to the rancher-desktop context for it.
	NodeIP func(ctx context.Context) (string, error)
	// Out gets one line per value found (stderr).
	Out io.Writer
}

// Write writes gen.yaml for the checkout and returns its path. It refuses
// to overwrite an existing file.
func Write(ctx context.Context, o Options) (string, error) {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Path == "" {
		o.Path = filepath.Join(o.Dir, "gen.yaml")
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	ok := OKMark()
	if _, err := os.Lstat(o.Path); err == nil {
		return "", fmt.Errorf("%s already exists; gen init never overwrites it: edit it, or move it away and run gen init again", o.Path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}

	var c config.Checkout
	var notes []string
	c.RepoURL = o.RepoURL
	if c.RepoURL == "" {
		origin, err := bootstrap.OriginURL(o.Dir)
		if err != nil {
			return "", err
		}
		c.RepoURL = origin
		note := "spec.git.repoURL: the origin remote"
		if https := bootstrap.HTTPSRemote(origin); https != origin && !o.KeepSSH {
			c.RepoURL = https
			note += " " + origin + ", as HTTPS so that Argo CD reads a public repository without a key (gen init --keep-ssh keeps SSH)"
		}
		notes = append(notes, note)
	}
	fmt.Fprintf(o.Out, "%s repository: %s\n", ok, c.RepoURL)

	c.Revision = o.Revision
	if c.Revision == "" {
		branch, err := currentBranch(o.Dir)
		if err != nil {
			return "", err
		}
		c.Revision = branch
		notes = append(notes, "spec.git.revision: the branch checked out when gen init ran")
	}
	fmt.Fprintf(o.Out, "%s revision: %s\n", ok, c.Revision)

	def := config.DefaultEnvironment()
	if o.NodeIP != nil {
		ip, err := o.NodeIP(ctx)
		switch {
		case err != nil:
			fmt.Fprintf(o.Out, "! node address: not found (%v); the default %s stays: set spec.environments[0].nodeIP once Rancher Desktop runs\n", err, def.NodeIP)
		case net.ParseIP(ip) == nil:
			fmt.Fprintf(o.Out, "! node address: %q is not an IP address; the default %s stays\n", ip, def.NodeIP)
		default:
			c.NodeIP = ip
			notes = append(notes, "spec.environments[0].nodeIP: the InternalIP of the "+def.Name+" cluster's node")
			fmt.Fprintf(o.Out, "%s node address: %s (%s.sslip.io)\n", ok, ip, ip)
		}
	}

	header := []string{"gen configuration for this checkout, written by gen init."}
	for _, n := range notes {
		header = append(header, "- "+n)
	}
	header = append(header,
		"Every field not set here keeps its built-in default: gen config default prints them all, with a description each.",
		"Next: gen render, commit and push, then gen bootstrap.",
		"")
	out, err := config.InitYAML(c, header...)
	if err != nil {
		return "", err
	}
	// The check above is for the message; O_EXCL makes the refusal hold even
	// if a file appears in between.
	f, err := os.OpenFile(o.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("write %s: %w", o.Path, err)
	}
	if _, err := f.Write(out); err != nil {
		f.Close()
		return "", fmt.Errorf("write %s: %w", o.Path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", o.Path, err)
	}
	return o.Path, nil
}

// OKMark is the mark of a step done, as every command prints it.
func OKMark() string {
	ok, _ := progress.Marks()
	return ok
}

// currentBranch is the branch checked out in dir.
func currentBranch(dir string) (string, error) {
	out, err := exec.Command("git", "-C", dir, "symbolic-ref", "--quiet", "--short", "HEAD").Output()
	if err != nil {
		return "", fmt.Errorf("no branch checked out in %s (detached HEAD?): check out the branch Argo CD should follow, or pass --revision", dir)
	}
	return strings.TrimSpace(string(out)), nil
}

// NodeInternalIP is the first InternalIP among the cluster's nodes (Rancher
// Desktop has one node).
func NodeInternalIP(ctx context.Context, cs kubernetes.Interface) (string, error) {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", fmt.Errorf("list nodes: %w", err)
	}
	for _, n := range nodes.Items {
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP && net.ParseIP(a.Address) != nil {
				return a.Address, nil
			}
		}
	}
	if len(nodes.Items) == 0 {
		return "", errors.New("the cluster has no nodes yet")
	}
	return "", errors.New("no node has an InternalIP")
}
