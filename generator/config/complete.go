package config

import "strings"

// Complete fills in the values derived from others (an environment's domain
// from its node IP, the History Server's log directory from the bucket) and
// the per-environment defaults. It is idempotent.
func (p *Platform) Complete() {
	for i := range p.Spec.Environments {
		env := &p.Spec.Environments[i]
		if env.Name == DefaultEnvironment().Name {
			env.fillFrom(DefaultEnvironment())
		}
		if env.IngressClassName == "" {
			env.IngressClassName = "traefik"
		}
		if env.ReconciliationTimeout == "" {
			env.ReconciliationTimeout = "180s"
		}
		if env.Domain == "" && env.NodeIP != "" {
			env.Domain = env.NodeIP + ".sslip.io"
		}
	}
	if p.Spec.HistoryServer.LogDirectory == "" {
		p.Spec.HistoryServer.LogDirectory = "s3a://" + p.Spec.MinIO.Bucket + "/" + strings.Trim(p.Spec.MinIO.EventLogPrefix, "/") + "/"
	}
	if p.Spec.ObjectStore.Type == "" {
		p.Spec.ObjectStore.Type = ObjectStoreMinIO
	}
	if p.Spec.Tenants == nil {
		p.Spec.Tenants = []Tenant{}
	}
	for i := range p.Spec.Tenants {
		p.Spec.Tenants[i].fill(DefaultTenant(), p.Spec.Git.RepoURL)
	}
}

// fill sets every empty field of a tenant from d, its groups to one named
// like the tenant and its source repositories to the platform's.
func (t *Tenant) fill(d Tenant, repoURL string) {
	if len(t.Groups) == 0 {
		t.Groups = []string{t.Name}
	}
	if len(t.SourceRepos) == 0 {
		t.SourceRepos = []string{repoURL}
	}
	if t.PodSecurity == "" {
		t.PodSecurity = d.PodSecurity
	}
	fillQuantity := func(v *Quantity, def Quantity) {
		if *v == "" {
			*v = def
		}
	}
	fillQuantity(&t.Quota.CPU, d.Quota.CPU)
	fillQuantity(&t.Quota.Memory, d.Quota.Memory)
	fillQuantity(&t.ContainerDefaults.CPU, d.ContainerDefaults.CPU)
	fillQuantity(&t.ContainerDefaults.Memory, d.ContainerDefaults.Memory)
	if t.Quota.Pods == 0 {
		t.Quota.Pods = d.Quota.Pods
	}
	if t.Quota.SparkApplications == 0 {
		t.Quota.SparkApplications = d.Quota.SparkApplications
	}
}

// AllJobNamespaces are the namespaces where SparkApplications run: the
// configured job namespaces, then one per tenant, in config order. Everything
// that follows the job namespaces reads this one list: the operator's
// --namespaces, its RBAC and webhook selector, the object store's
// NetworkPolicy, the platform AppProject and the credentials Secret copies
// made by gen bootstrap.
func (p *Platform) AllJobNamespaces() []string {
	out := make([]string, 0, len(p.Spec.SparkOperator.JobNamespaces)+len(p.Spec.Tenants))
	out = append(out, p.Spec.SparkOperator.JobNamespaces...)
	for _, t := range p.Spec.Tenants {
		out = append(out, t.Name)
	}
	return out
}

// fillFrom sets every empty field from d.
func (e *Environment) fillFrom(d Environment) {
	fill := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	fill(&e.NodeIP, d.NodeIP)
	fill(&e.IngressClassName, d.IngressClassName)
	fill(&e.StorageClassName, d.StorageClassName)
	fill(&e.ReconciliationTimeout, d.ReconciliationTimeout)
	if e.Capacity == (Capacity{}) {
		e.Capacity = d.Capacity
	}
	if e.Resources.MinIO == nil {
		e.Resources.MinIO = d.Resources.MinIO
	}
	if e.Resources.SeaweedFS == nil {
		e.Resources.SeaweedFS = d.Resources.SeaweedFS
	}
	if e.Resources.SparkOperator == nil {
		e.Resources.SparkOperator = d.Resources.SparkOperator
	}
	if e.Resources.HistoryServer == nil {
		e.Resources.HistoryServer = d.Resources.HistoryServer
	}
}

// Environment returns the environment with the given name.
func (p *Platform) Environment(name string) (Environment, bool) {
	for _, e := range p.Spec.Environments {
		if e.Name == name {
			return e, true
		}
	}
	return Environment{}, false
}

// EnvironmentNames lists the configured environments in config order.
func (p *Platform) EnvironmentNames() []string {
	names := make([]string, 0, len(p.Spec.Environments))
	for _, e := range p.Spec.Environments {
		names = append(names, e.Name)
	}
	return names
}

// URL is the address of an Ingress host in the environment: https when the
// environment's Ingresses have TLS.
func (e Environment) URL(host string) string {
	if e.TLS.Enabled {
		return "https://" + host
	}
	return "http://" + host
}
