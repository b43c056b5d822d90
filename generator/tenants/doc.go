// Package tenants renders what each tenant of spec.tenants gets in its own
// namespace (the Namespace itself, with its Pod Security level, is rendered
// with the platform's namespaces so that it exists before anything else):
// a ResourceQuota and a LimitRange, the Spark driver's ServiceAccount and
// RBAC, a Role that lets the tenant's groups manage their SparkApplications
// and ScheduledSparkApplications and nothing else, a default-deny
// NetworkPolicy with the allows Spark needs, and an Argo CD AppProject
// restricted to the namespace. The operator, the object store's
// NetworkPolicy and gen bootstrap's credential copies pick tenant namespaces
// up through config.Platform.AllJobNamespaces.
package tenants
