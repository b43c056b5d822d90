package config

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/rdspark/gen/generator/image/spark"
)

// Supported release lines. Argo CD 2.x is end of life; the tree's patches and
// the operator RBAC are authored from the facts of these lines.
var (
	SupportedArgoCDMajors        = []int{3}
	SupportedSparkOperatorMajors = []int{2}
)

// Pod Security Admission levels a tenant namespace may enforce.
const (
	Baseline   = "baseline"
	Restricted = "restricted"
)

// PlatformNamespaces are the namespaces the platform components own; job
// namespaces must not reuse them.
var PlatformNamespaces = []string{"argocd", "minio", "spark-operator", "spark-history"}

// Validate checks every value and returns all problems at once, each naming
// its field path. It expects a completed config (see Complete).
func (p *Platform) Validate() error {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	s := p.Spec

	g := spec.Child("git")
	errs = append(errs, validateGitURL(g.Child("repoURL"), s.Git.RepoURL)...)
	if strings.TrimSpace(s.Git.Revision) == "" {
		errs = append(errs, field.Required(g.Child("revision"), "a branch, tag or commit"))
	}
	errs = append(errs, validateRepoPath(g.Child("path"), s.Git.Path)...)

	if m := s.Images.RegistryMirror; m != "" && !mirrorPattern.MatchString(m) {
		errs = append(errs, field.Invalid(spec.Child("images", "registryMirror"), m, "must be a registry host with an optional path, without scheme or trailing slash (registry.example.com/mirror)"))
	}

	envs := spec.Child("environments")
	if len(s.Environments) == 0 {
		errs = append(errs, field.Required(envs, "at least one environment"))
	}
	seen := map[string]bool{}
	for i, env := range s.Environments {
		p := envs.Index(i)
		errs = append(errs, validateEnvironment(p, env, seen)...)
		r := p.Child("resources")
		if env.Resources.SparkOperator != nil {
			errs = append(errs, validateControllerMemory(r.Child("sparkOperator"), *env.Resources.SparkOperator, s.SparkOperator.ControllerWorkers)...)
		}
		if env.Resources.HistoryServer != nil {
			errs = append(errs, validateHistoryMemory(r.Child("historyServer"), *env.Resources.HistoryServer)...)
		}
	}

	a := spec.Child("argocd")
	errs = append(errs, validateVersion(a.Child("version"), s.ArgoCD.Version, SupportedArgoCDMajors)...)
	errs = append(errs, validateHTTPURL(a.Child("manifestsBaseURL"), s.ArgoCD.ManifestsBaseURL)...)

	errs = append(errs, validateObjectStore(spec.Child("objectStore"), s.ObjectStore)...)

	m := spec.Child("minio")
	errs = append(errs, validateImage(m.Child("image"), s.MinIO.Image, true)...)
	errs = append(errs, validatePositiveQuantity(m.Child("storage"), string(s.MinIO.Storage))...)
	if !bucketPattern.MatchString(s.MinIO.Bucket) || strings.Contains(s.MinIO.Bucket, "..") {
		errs = append(errs, field.Invalid(m.Child("bucket"), s.MinIO.Bucket, "must be an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"))
	}
	if !prefixPattern.MatchString(s.MinIO.EventLogPrefix) {
		errs = append(errs, field.Invalid(m.Child("eventLogPrefix"), s.MinIO.EventLogPrefix, "must be a folder like spark-events or logs/spark: letters, digits, '-', '_', '.', separated by single '/'"))
	}
	errs = append(errs, validateName(m.Child("credentialsSecret"), s.MinIO.CredentialsSecret, validation.IsDNS1123Subdomain)...)
	errs = append(errs, validateResources(m.Child("resources"), s.MinIO.Resources)...)

	sw := spec.Child("seaweedfs")
	errs = append(errs, validateImage(sw.Child("image"), s.SeaweedFS.Image, true)...)
	errs = append(errs, validateResources(sw.Child("resources"), s.SeaweedFS.Resources)...)

	o := spec.Child("sparkOperator")
	errs = append(errs, validateVersion(o.Child("version"), s.SparkOperator.Version, SupportedSparkOperatorMajors)...)
	errs = append(errs, validateImage(o.Child("image"), s.SparkOperator.Image, true)...)
	errs = append(errs, validateHTTPURL(o.Child("crdBaseURL"), s.SparkOperator.CRDBaseURL)...)
	if len(s.SparkOperator.JobNamespaces) == 0 {
		errs = append(errs, field.Required(o.Child("jobNamespaces"), "at least one namespace for Spark jobs"))
	}
	seenNS := map[string]bool{}
	for i, ns := range s.SparkOperator.JobNamespaces {
		p := o.Child("jobNamespaces").Index(i)
		errs = append(errs, validateName(p, ns, validation.IsDNS1123Label)...)
		switch {
		case seenNS[ns]:
			errs = append(errs, field.Duplicate(p, ns))
		case contains(PlatformNamespaces, ns) || strings.HasPrefix(ns, "kube-"):
			errs = append(errs, field.Invalid(p, ns, "is a platform or system namespace; Spark jobs need their own"))
		}
		seenNS[ns] = true
	}
	if w := s.SparkOperator.ControllerWorkers; w < 1 || w > 1000 {
		errs = append(errs, field.Invalid(o.Child("controllerWorkers"), w, "must be between 1 and 1000"))
	}
	errs = append(errs, validateResources(o.Child("resources"), s.SparkOperator.Resources)...)
	errs = append(errs, validateControllerMemory(o.Child("resources"), s.SparkOperator.Resources, s.SparkOperator.ControllerWorkers)...)

	sp := spec.Child("spark")
	operator, operatorErr := spark.LookupOperator(s.SparkOperator.Version)
	if operatorErr != nil && len(validateVersion(o.Child("version"), s.SparkOperator.Version, SupportedSparkOperatorMajors)) == 0 {
		errs = append(errs, field.Invalid(o.Child("version"), s.SparkOperator.Version, operatorErr.Error()))
	}
	if _, err := spark.Lookup(s.Spark.Version); err != nil {
		msg := err.Error()
		if operatorErr == nil {
			msg += fmt.Sprintf(" (Spark Operator %s, spec.sparkOperator.version, submits with Spark %s from its own image)", operator.Version, operator.Spark)
		}
		errs = append(errs, field.Invalid(sp.Child("version"), s.Spark.Version, msg))
	} else if operatorErr == nil && spark.LineOf(s.Spark.Version) != spark.LineOf(operator.Spark) {
		// One platform, one Spark: the operator submits every job with
		// the spark-submit of its own image.
		errs = append(errs, field.Invalid(sp.Child("version"), s.Spark.Version, fmt.Sprintf(
			"Spark Operator %s (spec.sparkOperator.version) submits with Spark %s from its own image, so jobs and the History Server must run %s.x too; use spark.version %s",
			operator.Version, operator.Spark, spark.LineOf(operator.Spark), operator.Spark)))
	}
	errs = append(errs, validateImage(sp.Child("image"), s.Spark.Image, false)...)

	h := spec.Child("historyServer")
	if u, err := url.Parse(s.HistoryServer.LogDirectory); err != nil || u.Scheme != "s3a" || u.Host == "" {
		errs = append(errs, field.Invalid(h.Child("logDirectory"), s.HistoryServer.LogDirectory, "must be an s3a://bucket/folder URL"))
	}
	errs = append(errs, validateResources(h.Child("resources"), s.HistoryServer.Resources)...)
	errs = append(errs, validateHistoryMemory(h.Child("resources"), s.HistoryServer.Resources)...)
	c := h.Child("cleaner")
	if !sparkDurationPattern.MatchString(s.HistoryServer.Cleaner.Interval) {
		errs = append(errs, field.Invalid(c.Child("interval"), s.HistoryServer.Cleaner.Interval, "must be a Spark time like 12h or 1d"))
	}
	if !sparkDurationPattern.MatchString(s.HistoryServer.Cleaner.MaxAge) {
		errs = append(errs, field.Invalid(c.Child("maxAge"), s.HistoryServer.Cleaner.MaxAge, "must be a Spark time like 12h or 7d"))
	}

	tenants := spec.Child("tenants")
	for i, t := range s.Tenants {
		errs = append(errs, validateTenant(tenants.Index(i), t, seenNS)...)
		seenNS[t.Name] = true
	}

	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	return errors.New(strings.Join(msgs, "\n"))
}

var (
	mirrorPattern        = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$`)
	bucketPattern        = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	prefixPattern        = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)
	regionPattern        = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	sparkDurationPattern = regexp.MustCompile(`^[0-9]+(ms|s|m|min|h|d)$`)
	versionPattern       = regexp.MustCompile(`^v?([0-9]+)\.([0-9]+)\.([0-9]+)(-[0-9A-Za-z.-]+)?$`)
	// imagePattern is the distribution reference grammar, simplified: an
	// optional registry host, lowercase path components, then a tag and/or digest.
	imagePattern      = regexp.MustCompile(`^([a-zA-Z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$`)
	scpLikeGitPattern = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._/~-]+$`)
)

func validateEnvironment(p *field.Path, env Environment, seen map[string]bool) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateName(p.Child("name"), env.Name, validation.IsDNS1123Label)...)
	if seen[env.Name] {
		errs = append(errs, field.Duplicate(p.Child("name"), env.Name))
	}
	seen[env.Name] = true
	if env.NodeIP != "" {
		errs = append(errs, validation.IsValidIP(p.Child("nodeIP"), env.NodeIP)...)
	}
	if env.Domain == "" {
		errs = append(errs, field.Required(p.Child("domain"), "set domain, or nodeIP to use <nodeIP>.sslip.io"))
	} else {
		errs = append(errs, validateName(p.Child("domain"), env.Domain, validation.IsDNS1123Subdomain)...)
	}
	errs = append(errs, validateName(p.Child("ingressClassName"), env.IngressClassName, validation.IsDNS1123Subdomain)...)
	if env.StorageClassName != "" {
		errs = append(errs, validateName(p.Child("storageClassName"), env.StorageClassName, validation.IsDNS1123Subdomain)...)
	}
	if d, err := time.ParseDuration(env.ReconciliationTimeout); err != nil || d < 0 {
		errs = append(errs, field.Invalid(p.Child("reconciliationTimeout"), env.ReconciliationTimeout, "must be a duration like 60s or 3m"))
	}
	if env.TLS.ClusterIssuer != "" {
		errs = append(errs, validateName(p.Child("tls", "clusterIssuer"), env.TLS.ClusterIssuer, validation.IsDNS1123Subdomain)...)
		if !env.TLS.Enabled {
			errs = append(errs, field.Invalid(p.Child("tls", "clusterIssuer"), env.TLS.ClusterIssuer, "is set but tls.enabled is false"))
		}
	}
	for name, n := range map[string]int{"sparkOperator": env.Replicas.SparkOperator, "historyServer": env.Replicas.HistoryServer} {
		if n < 0 || n > 10 {
			errs = append(errs, field.Invalid(p.Child("replicas", name), n, "must be between 0 (the base: one) and 10"))
		}
	}
	if env.Capacity.CPU != "" {
		errs = append(errs, validatePositiveQuantity(p.Child("capacity", "cpu"), string(env.Capacity.CPU))...)
	}
	if env.Capacity.Memory != "" {
		errs = append(errs, validatePositiveQuantity(p.Child("capacity", "memory"), string(env.Capacity.Memory))...)
	}
	r := p.Child("resources")
	if env.Resources.MinIO != nil {
		errs = append(errs, validateResources(r.Child("minio"), *env.Resources.MinIO)...)
	}
	if env.Resources.SeaweedFS != nil {
		errs = append(errs, validateResources(r.Child("seaweedfs"), *env.Resources.SeaweedFS)...)
	}
	if env.Resources.SparkOperator != nil {
		errs = append(errs, validateResources(r.Child("sparkOperator"), *env.Resources.SparkOperator)...)
	}
	if env.Resources.HistoryServer != nil {
		errs = append(errs, validateResources(r.Child("historyServer"), *env.Resources.HistoryServer)...)
	}
	return errs
}

func validateObjectStore(p *field.Path, o ObjectStore) field.ErrorList {
	var errs field.ErrorList
	if !contains(ObjectStoreTypes, o.Type) {
		return field.ErrorList{field.NotSupported(p.Child("type"), o.Type, ObjectStoreTypes)}
	}
	if o.Type == ObjectStoreExternal {
		errs = append(errs, validateHTTPURL(p.Child("endpoint"), o.Endpoint)...)
	} else if o.Endpoint != "" {
		errs = append(errs, field.Invalid(p.Child("endpoint"), o.Endpoint, "only for type external: the "+o.Type+" endpoint is the in-cluster Service"))
	}
	if !regionPattern.MatchString(o.Region) {
		errs = append(errs, field.Invalid(p.Child("region"), o.Region, "must be an S3 region like us-east-1"))
	}
	if o.Type != ObjectStoreExternal && !o.PathStyleAccess {
		errs = append(errs, field.Invalid(p.Child("pathStyleAccess"), false, "must be true for an in-cluster store: buckets are not DNS names there"))
	}
	return errs
}

// reservedNamespaces may not be tenants: Kubernetes' own.
var reservedNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

func validateTenant(p *field.Path, t Tenant, seenNS map[string]bool) field.ErrorList {
	var errs field.ErrorList
	name := p.Child("name")
	errs = append(errs, validateName(name, t.Name, validation.IsDNS1123Label)...)
	switch {
	case seenNS[t.Name]:
		errs = append(errs, field.Duplicate(name, t.Name))
	case contains(PlatformNamespaces, t.Name) || contains(reservedNamespaces, t.Name) || strings.HasPrefix(t.Name, "kube-"):
		errs = append(errs, field.Invalid(name, t.Name, "is a platform or system namespace; a tenant needs its own"))
	}
	for i, g := range t.Groups {
		if strings.TrimSpace(g) == "" || g != strings.TrimSpace(g) {
			errs = append(errs, field.Invalid(p.Child("groups").Index(i), g, "must be a group name without surrounding spaces"))
		}
	}
	if t.PodSecurity != Baseline && t.PodSecurity != Restricted {
		errs = append(errs, field.NotSupported(p.Child("podSecurity"), t.PodSecurity, []string{Baseline, Restricted}))
	}
	q := p.Child("quota")
	quotaCPUErrs := validatePositiveQuantity(q.Child("cpu"), string(t.Quota.CPU))
	quotaMemErrs := validatePositiveQuantity(q.Child("memory"), string(t.Quota.Memory))
	errs = append(errs, quotaCPUErrs...)
	errs = append(errs, quotaMemErrs...)
	if t.Quota.Pods < 1 || t.Quota.Pods > 100000 {
		errs = append(errs, field.Invalid(q.Child("pods"), t.Quota.Pods, "must be between 1 and 100000"))
	}
	if t.Quota.SparkApplications < 1 || t.Quota.SparkApplications > 100000 {
		errs = append(errs, field.Invalid(q.Child("sparkApplications"), t.Quota.SparkApplications, "must be between 1 and 100000"))
	}
	d := p.Child("containerDefaults")
	cpuErrs := validatePositiveQuantity(d.Child("cpu"), string(t.ContainerDefaults.CPU))
	memErrs := validatePositiveQuantity(d.Child("memory"), string(t.ContainerDefaults.Memory))
	errs = append(errs, cpuErrs...)
	errs = append(errs, memErrs...)
	// A default bigger than the quota would refuse every pod that relies on it.
	if len(cpuErrs) == 0 && len(quotaCPUErrs) == 0 && greater(t.ContainerDefaults.CPU, t.Quota.CPU) {
		errs = append(errs, field.Invalid(d.Child("cpu"), t.ContainerDefaults.CPU, fmt.Sprintf("must not exceed quota.cpu %s", t.Quota.CPU)))
	}
	if len(memErrs) == 0 && len(quotaMemErrs) == 0 && greater(t.ContainerDefaults.Memory, t.Quota.Memory) {
		errs = append(errs, field.Invalid(d.Child("memory"), t.ContainerDefaults.Memory, fmt.Sprintf("must not exceed quota.memory %s", t.Quota.Memory)))
	}
	for i, repo := range t.SourceRepos {
		errs = append(errs, validateGitURL(p.Child("sourceRepos").Index(i), repo)...)
	}
	return errs
}

// greater compares two valid quantities.
func greater(a, b Quantity) bool {
	qa, qb := resource.MustParse(string(a)), resource.MustParse(string(b))
	return qa.Cmp(qb) > 0
}

func validateName(p *field.Path, value string, check func(string) []string) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	if msgs := check(value); len(msgs) > 0 {
		return field.ErrorList{field.Invalid(p, value, strings.Join(msgs, "; "))}
	}
	return nil
}

func validateGitURL(p *field.Path, value string) field.ErrorList {
	if scpLikeGitPattern.MatchString(value) {
		return nil
	}
	u, err := url.Parse(value)
	if err != nil || u.Host == "" || !contains([]string{"https", "http", "ssh", "git"}, u.Scheme) {
		return field.ErrorList{field.Invalid(p, value, "must be a Git URL with a scheme (https://host/org/repo.git, ssh://git@host/org/repo.git) or git@host:org/repo.git")}
	}
	return nil
}

func validateRepoPath(p *field.Path, value string) field.ErrorList {
	clean := path.Clean(value)
	if value == "" || path.IsAbs(value) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(value, "\\") {
		return field.ErrorList{field.Invalid(p, value, "must be a relative folder inside the repository, like . or platform/spark")}
	}
	return nil
}

func validateHTTPURL(p *field.Path, value string) field.ErrorList {
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return field.ErrorList{field.Invalid(p, value, "must be an http(s):// URL")}
	}
	if strings.HasSuffix(value, "/") || u.RawQuery != "" || u.Fragment != "" {
		return field.ErrorList{field.Invalid(p, value, "must be a base URL without trailing slash, query or fragment")}
	}
	return nil
}

// validateImage checks an image reference; withTag requires a tag or digest
// (pinned images only: "latest" drifts under GitOps).
func validateImage(p *field.Path, value string, withTag bool) field.ErrorList {
	if !imagePattern.MatchString(value) {
		return field.ErrorList{field.Invalid(p, value, "must be an image reference like registry.example.com/org/name:tag")}
	}
	name := value
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	hasTag := strings.Contains(name, ":") || strings.Contains(name, "@")
	switch {
	case withTag && !hasTag:
		return field.ErrorList{field.Invalid(p, value, "must be pinned to a tag or digest")}
	case !withTag && hasTag:
		return field.ErrorList{field.Invalid(p, value, "must be a repository without tag or digest: gen derives the tag")}
	case strings.HasSuffix(value, ":latest"):
		return field.ErrorList{field.Invalid(p, value, "must be pinned to a release tag, not latest")}
	}
	return nil
}

func validateVersion(p *field.Path, value string, majors []int) field.ErrorList {
	m := versionPattern.FindStringSubmatch(value)
	if m == nil {
		return field.ErrorList{field.Invalid(p, value, "must be a release version like 1.2.3")}
	}
	major, _ := strconv.Atoi(m[1])
	if !contains(majors, major) {
		supported := make([]string, 0, len(majors))
		for _, s := range majors {
			supported = append(supported, strconv.Itoa(s)+".x")
		}
		return field.ErrorList{field.Invalid(p, value, "unsupported release; supported: "+strings.Join(supported, ", "))}
	}
	return nil
}

func validatePositiveQuantity(p *field.Path, value string) field.ErrorList {
	q, err := resource.ParseQuantity(value)
	if err != nil {
		return field.ErrorList{field.Invalid(p, value, "is not a quantity (like 10Gi or 500Mi)")}
	}
	if q.Sign() <= 0 {
		return field.ErrorList{field.Invalid(p, value, "must be greater than zero")}
	}
	return nil
}

func validateResources(p *field.Path, r Resources) field.ErrorList {
	var errs field.ErrorList
	pairs := []struct {
		name           string
		request, limit string
	}{
		{"cpu", string(r.Requests.CPU), string(r.Limits.CPU)},
		{"memory", string(r.Requests.Memory), string(r.Limits.Memory)},
	}
	for _, pair := range pairs {
		reqPath, limPath := p.Child("requests", pair.name), p.Child("limits", pair.name)
		reqErrs := validatePositiveQuantity(reqPath, pair.request)
		limErrs := validatePositiveQuantity(limPath, pair.limit)
		errs = append(errs, reqErrs...)
		errs = append(errs, limErrs...)
		if len(reqErrs) == 0 && len(limErrs) == 0 {
			req, lim := resource.MustParse(pair.request), resource.MustParse(pair.limit)
			if req.Cmp(lim) > 0 {
				errs = append(errs, field.Invalid(reqPath, pair.request, fmt.Sprintf("must not exceed the limit %s", pair.limit)))
			}
		}
	}
	return errs
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// validateHistoryMemory refuses a History Server memory limit too small for
// a working heap (see HistoryHeapPercent and MinHistoryHeapMiB).
func validateHistoryMemory(p *field.Path, r Resources) field.ErrorList {
	limit, err := resource.ParseQuantity(string(r.Limits.Memory))
	if err != nil {
		return nil // reported by validateResources
	}
	if min := MinHistoryMemory(); limit.Cmp(min) < 0 {
		return field.ErrorList{field.Invalid(p.Child("limits", "memory"), r.Limits.Memory, fmt.Sprintf(
			"leaves the History Server a %dMi heap (%d%% of the limit); it needs at least %dMi: raise the limit to %s or more",
			HistoryHeapMiB(r.Limits.Memory), HistoryHeapPercent, MinHistoryHeapMiB, min.String()))}
	}
	return nil
}

// validateControllerMemory refuses a Spark Operator memory limit that cannot
// hold the controller and its concurrent spark-submit JVMs, which the kernel
// would kill ("failed to run spark-submit: signal: killed").
func validateControllerMemory(p *field.Path, r Resources, workers int) field.ErrorList {
	limit, err := resource.ParseQuantity(string(r.Limits.Memory))
	if err != nil || workers < 1 {
		return nil // reported elsewhere
	}
	if min := MinControllerMemory(workers); limit.Cmp(min) < 0 {
		return field.ErrorList{field.Invalid(p.Child("limits", "memory"), r.Limits.Memory, fmt.Sprintf(
			"cannot hold the controller and %d concurrent spark-submit JVMs (%dMi + %d x %dMi = %s): raise it to %s, or lower spec.sparkOperator.controllerWorkers",
			workers, ControllerBaseMiB, workers, SubmitFootprintMiB, min.String(), min.String()))}
	}
	return nil
}
