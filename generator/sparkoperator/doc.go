// Package sparkoperator renders the Kubeflow Spark Operator (v2.x) without
// Helm: the controller and webhook Deployments, the webhook Service and
// admission configurations, ServiceAccounts and RBAC, all authored from the
// facts of the release's Helm chart (charts/spark-operator-chart/templates),
// plus its CRDs referenced by exact URL, the job namespaces' driver RBAC, and
// example SparkApplications for users to apply.
package sparkoperator
