// Package smoke runs the platform's one flow end to end on a live cluster,
// the way a user would check it by hand: it submits a uniquely named copy of
// the SparkPi example (generator/sparkoperator.ExampleApplication) into the
// first job namespace, follows it (submitted, driver running, executors,
// completed), looks for the application's event log under the History
// Server's log directory through the S3 API with the in-cluster credentials,
// asks the History Server's REST API whether it lists the application, and
// deletes what it created. The first state that does not come is reported
// with its likely cause and the fix, as doctor.Finding values.
//
// The cluster steps talk to the API server (client-go). The object store and
// the History Server are reached through an Endpoints: in production a
// port-forward (client-go's tools/portforward over SPDY, the same mechanism
// as kubectl port-forward, so nothing but gen is needed on the laptop) to a
// ready pod behind the Service. Most tests hand in loopback addresses of a
// real MinIO server and an HTTP test server instead (Loopback), because a
// port-forward needs a kubelet; one test runs the port-forward itself
// through a real kube-apiserver to a kubelet stand-in that serves the
// portForward and containerLogs endpoints on loopback. What only a real
// cluster proves: a kubelet forwarding into the pod's network namespace,
// Spark writing the event log over S3A, the History Server reading it.
//
// Why a port-forward rather than a short Job that lists the bucket: a Job
// needs an image with an S3 client pulled onto the node (the Spark image has
// none that is not a JVM), its pod must be allowed through the object
// store's NetworkPolicies, and its result comes back only as a log; the
// port-forward reuses the connection gen already has, runs nothing in the
// cluster and lets gen read the bucket with a typed S3 client.
package smoke
