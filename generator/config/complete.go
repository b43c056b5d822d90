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
	if e.Resources.MinIO == nil {
		e.Resources.MinIO = d.Resources.MinIO
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
