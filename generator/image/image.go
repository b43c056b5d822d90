package image

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image/spark"
)

// Dir is the folder of the rendered tree that holds the Dockerfile; it is also
// the build context (nothing else in it is used).
const Dir = "image"

// DockerfilePath is the Dockerfile in the rendered tree.
var DockerfilePath = path.Join(Dir, "Dockerfile")

// ReferencePrefix starts the Dockerfile comment line that names the image
// reference; make image reads it from there, so the Makefile never derives the
// reference a second way.
const ReferencePrefix = "# image: "

// JarDir is where the download stage collects the verified jars; the final
// stage copies exactly that folder's files and nothing else.
const JarDir = "/tmp/jars"

// ConfigHashLabel carries the hash of the config the image is built from
// (spec.spark and spec.images), so a rebuilt image can be told from a stale one.
const ConfigHashLabel = "dev.rdspark.gen.config-hash"

// Release is the Spark release of cfg with its line's facts.
func Release(cfg config.Platform) (spark.Release, error) {
	r, err := spark.Lookup(cfg.Spec.Spark.Version)
	if err != nil {
		return spark.Release{}, fmt.Errorf("spec.spark.version: %q: %w", cfg.Spec.Spark.Version, err)
	}
	return r, nil
}

// Reference is the Spark + S3A image as every Spark pod of the tree pulls it:
// <spec.spark.image>:<version>-hadoop<hadoop>, behind the registry mirror when
// one is configured. make image tags the build with exactly this.
func Reference(cfg config.Platform) (string, error) {
	r, err := Release(cfg)
	if err != nil {
		return "", err
	}
	return component.Image(cfg.Spec.Images, cfg.Spec.Spark.Image+":"+r.Tag()), nil
}

// Dockerfile renders image/Dockerfile (without gen's header line, which the
// caller puts in front of every file). configHash goes into a label.
func Dockerfile(cfg config.Platform, configHash string) ([]byte, error) {
	r, err := Release(cfg)
	if err != nil {
		return nil, err
	}
	ref, err := Reference(cfg)
	if err != nil {
		return nil, err
	}
	base := component.Image(cfg.Spec.Images, r.BaseImage())

	var jarNames []string
	for _, j := range r.Jars {
		jarNames = append(jarNames, j.FileName())
	}
	if len(jarNames) < 2 {
		return nil, fmt.Errorf("spark %s: the table lists %d jars, want hadoop-aws and an AWS SDK bundle", r.Line.Line, len(jarNames))
	}

	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# The Spark + S3A image: Apache Spark %s plus the S3A connector of the Hadoop it ships (%s),", r.Version, r.Hadoop)
	line("# %s, and the AWS SDK that Hadoop release was built against, %s.", jarNames[0], strings.Join(jarNames[1:], ", "))
	line("# The History Server and the example SparkApplications run it as")
	line("%s%s", ReferencePrefix, ref)
	line("# Build it with make image (no registry needed on Rancher Desktop): README.md, \"The Spark image\".")
	line("")
	line("# Each jar comes from Maven Central with the SHA-1 file Maven Central publishes beside it,")
	line("# and a jar that does not match its checksum fails the build. Like every step here, this")
	line("# runs as the base image's non-root user (uid %d).", spark.UID)
	line("# jars downloads and verifies the S3A jars.")
	line("FROM %s AS jars", base)
	line("RUN set -eu; \\")
	line("    mkdir %s; \\", JarDir)
	line("    cd %s; \\", JarDir)
	for i, j := range r.Jars {
		line("    wget -nv --no-hsts -O %s %s; \\", j.FileName(), j.URL())
		line("    sha1=\"$(wget -q --no-hsts -O - %s | cut -c1-40)\"; \\", j.SHA1URL())
		end := "; \\"
		if i == len(r.Jars)-1 {
			end = ""
		}
		line("    echo \"$sha1  %s\" | sha1sum --check --strict -%s", j.FileName(), end)
	}
	line("")
	line("# The image: the base image plus the verified jars, nothing else.")
	line("FROM %s", base)
	line("COPY --from=jars %s/ /opt/spark/jars/", JarDir)
	labels := Labels(cfg, r, configHash)
	line("LABEL %s", strings.Join(labels, " \\\n      "))
	line("# The spark user of the apache/spark image, by number so the kubelet can check runAsNonRoot.")
	line("USER %d:%d", spark.UID, spark.UID)
	return []byte(b.String()), nil
}

// Labels are the image's labels as key="value" pairs, sorted by key: OCI
// annotations for the source, version and base, and the gen config hash.
func Labels(cfg config.Platform, r spark.Release, configHash string) []string {
	var jarNames []string
	for _, j := range r.Jars {
		jarNames = append(jarNames, j.FileName())
	}
	kv := [][2]string{
		{ConfigHashLabel, configHash},
		{"org.opencontainers.image.base.name", r.BaseImage()},
		{"org.opencontainers.image.description", "Apache Spark " + r.Version + " with the S3A connector: " + strings.Join(jarNames, ", ")},
		{"org.opencontainers.image.source", SourceURL(cfg.Spec.Git.RepoURL)},
		{"org.opencontainers.image.title", path.Base(cfg.Spec.Spark.Image)},
		{"org.opencontainers.image.version", r.Tag()},
	}
	out := make([]string, 0, len(kv))
	for _, p := range kv {
		out = append(out, p[0]+"="+quote(p[1]))
	}
	return out
}

// quote makes a double-quoted Dockerfile word whose value is s exactly:
// LABEL values go through variable expansion, so $ is escaped too.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`)
	return `"` + r.Replace(s) + `"`
}

var scpLike = regexp.MustCompile(`^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):(.+)$`)

// SourceURL turns the Git repository URL of the config (where image/ lives)
// into the web URL org.opencontainers.image.source expects: https, no user,
// no .git suffix. Registries such as GHCR link the image to it.
func SourceURL(repoURL string) string {
	if m := scpLike.FindStringSubmatch(repoURL); m != nil {
		return "https://" + m[1] + "/" + strings.TrimSuffix(strings.Trim(m[2], "/"), ".git")
	}
	u, err := url.Parse(repoURL)
	if err != nil || u.Host == "" {
		return repoURL
	}
	host := u.Host
	if u.Scheme != "http" && u.Scheme != "https" {
		// ssh:// and git:// ports are not web ports.
		host = u.Hostname()
		u.Scheme = "https"
	}
	return u.Scheme + "://" + host + "/" + strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
}
