package bootstrap

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

var scpLike = regexp.MustCompile(`^([A-Za-z0-9._-]+)@([A-Za-z0-9.-]+):(.+)$`)

// HTTPSRemote turns an SSH Git URL into its HTTPS form (git@github.com:o/r.git
// and ssh://git@github.com/o/r.git both give https://github.com/o/r.git), so
// Argo CD can read a public repository without a key. Others pass through.
func HTTPSRemote(url string) string {
	if m := scpLike.FindStringSubmatch(url); m != nil {
		return "https://" + m[2] + "/" + strings.TrimPrefix(m[3], "/")
	}
	if rest, ok := strings.CutPrefix(url, "ssh://"); ok {
		if at := strings.Index(rest, "@"); at >= 0 {
			rest = rest[at+1:]
		}
		// Drop a port: the HTTPS side uses its own.
		host, path, _ := strings.Cut(rest, "/")
		host, _, _ = strings.Cut(host, ":")
		return "https://" + host + "/" + path
	}
	return url
}

// OriginURL is the origin remote of the Git checkout at dir.
func OriginURL(dir string) (string, error) {
	out, err := exec.Command("git", "-C", dir, "remote", "get-url", "origin").Output()
	if err != nil {
		return "", fmt.Errorf("read the origin remote of %s (pass --repo-url): %w", dir, err)
	}
	return strings.TrimSpace(string(out)), nil
}
