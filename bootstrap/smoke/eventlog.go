package smoke

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/rdspark/gen/bootstrap/cluster"
	"github.com/rdspark/gen/bootstrap/doctor"
	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/s3"
)

// EventLogs finds an application's event log in the object store, through
// the S3 API with the credentials Spark jobs use (the copy of the
// credentials Secret in the job namespace).
type EventLogs struct {
	Endpoints Endpoints
	Client    kubernetes.Interface
	Config    config.Platform
	// Namespace holds the credentials Secret copy read (the job namespace).
	Namespace string
	// Wait bounds how long the log may take to appear (default 30s); Poll
	// is how often the bucket is listed (default 2s).
	Wait, Poll time.Duration
}

// Location is the bucket and prefix (ending in /) of an s3a:// log directory.
func Location(logDirectory string) (bucket, prefix string, err error) {
	u, err := url.Parse(logDirectory)
	if err != nil || u.Scheme != "s3a" || u.Host == "" {
		return "", "", fmt.Errorf("log directory %q is not an s3a://bucket/folder URL", logDirectory)
	}
	prefix = strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	return u.Host, prefix, nil
}

// IsEventLog reports whether name (relative to the log directory) is part of
// appID's event log as Spark names it: a single file <appID> with an
// optional attempt (_<attempt>), compression codec (.lz4, .zstd, ...) and
// .inprogress suffix, or a rolling log folder eventlog_v2_<appID>[_<attempt>]/.
func IsEventLog(name, appID string) bool {
	if appID == "" {
		return false
	}
	if rest, ok := strings.CutPrefix(name, "eventlog_v2_"+appID); ok {
		return strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "_")
	}
	rest, ok := strings.CutPrefix(name, appID)
	if !ok || strings.Contains(rest, "/") {
		return false
	}
	return rest == "" || rest[0] == '.' || rest[0] == '_'
}

// client connects to the object store: a port-forward to the in-cluster
// Service, or the external endpoint itself.
func (e *EventLogs) client(ctx context.Context) (*minio.Client, func(), error) {
	endpoint := s3.Endpoint(e.Config)
	release := func() {}
	if svc, ok := serviceOf(endpoint); ok {
		base, stop, err := e.Endpoints.Open(ctx, svc)
		if err != nil {
			return nil, nil, fmt.Errorf("reach the object store service %s: %w", svc, err)
		}
		endpoint, release = base, stop
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		release()
		return nil, nil, fmt.Errorf("object store endpoint %q is not a URL", endpoint)
	}
	secretName := e.Config.Spec.MinIO.CredentialsSecret
	secret, err := e.Client.CoreV1().Secrets(e.Namespace).Get(ctx, secretName, metav1.GetOptions{})
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("read the credentials Secret %s/%s: %w", e.Namespace, secretName, err)
	}
	user, password := string(secret.Data[component.CredentialsUserKey]), string(secret.Data[component.CredentialsPasswordKey])
	if user == "" || password == "" {
		release()
		return nil, nil, fmt.Errorf("the credentials Secret %s/%s lacks %s or %s", e.Namespace, secretName, component.CredentialsUserKey, component.CredentialsPasswordKey)
	}
	lookup := minio.BucketLookupAuto
	if e.Config.Spec.ObjectStore.PathStyleAccess {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(user, password, ""),
		Secure:       u.Scheme == "https",
		Region:       e.Config.Spec.ObjectStore.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("object store client for %s: %w", u.Host, err)
	}
	return c, release, nil
}

// list returns the keys of appID's event log.
func (e *EventLogs) list(ctx context.Context, c *minio.Client, bucket, prefix, appID string) ([]string, error) {
	var keys []string
	for _, p := range []string{prefix + appID, prefix + "eventlog_v2_" + appID} {
		for obj := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: p, Recursive: true}) {
			if obj.Err != nil {
				return nil, obj.Err
			}
			if IsEventLog(strings.TrimPrefix(obj.Key, prefix), appID) {
				keys = append(keys, obj.Key)
			}
		}
	}
	return keys, nil
}

// Check waits for appID's event log; the step, and the s3a:// URL of what
// it found (the file, or the rolling log folder).
func (e *EventLogs) Check(ctx context.Context, appID string) (Step, string) {
	start := time.Now()
	logDir := e.Config.Spec.HistoryServer.LogDirectory
	if appID == "" {
		return fail(StepEventLog, start, "no application id to look for",
			"the operator reported no sparkApplicationId and the driver pod had no spark-app-selector label", "gen smoke -v; kubectl describe sparkapplication"), ""
	}
	bucket, prefix, err := Location(logDir)
	if err != nil {
		return fail(StepEventLog, start, err.Error(), "", "spec.historyServer.logDirectory in gen.yaml"), ""
	}
	c, release, err := e.client(ctx)
	if err != nil {
		return e.connectFailed(start, err), ""
	}
	defer release()
	wait, poll := e.Wait, e.Poll
	if wait <= 0 {
		wait = 30 * time.Second
	}
	if poll <= 0 {
		poll = 2 * time.Second
	}
	deadline := time.Now().Add(wait)
	var found string
	var complete bool
	var listErr error
	err = cluster.Poll(ctx, poll, wait, func(ctx context.Context) (bool, error) {
		keys, err := e.list(ctx, c, bucket, prefix, appID)
		if err != nil {
			if ctx.Err() != nil {
				return false, nil // the wait ended during the request: not the store's fault
			}
			listErr = err
			return false, err
		}
		// An .inprogress log counts once the wait is over: the application
		// has completed, so it will not be renamed any more.
		found, complete = pick(keys, prefix, appID)
		return found != "" && (complete || !time.Now().Before(deadline.Add(-poll))), nil
	})
	switch {
	case listErr != nil:
		return e.listFailed(start, bucket, listErr), ""
	case found != "" && err == nil || found != "" && errors.Is(err, cluster.ErrTimeout):
		where := "s3a://" + bucket + "/" + found
		if !complete {
			s := fail(StepEventLog, start, "only the in-progress log "+where+" after the application completed",
				"the driver stopped without closing its event log (killed, or S3A could not rename it)",
				"gen smoke --keep, then kubectl logs of the driver")
			s.Severity = doctor.Warning
			return s, where
		}
		return ok(StepEventLog+" "+where, start), where
	case errors.Is(err, cluster.ErrTimeout):
		return fail(StepEventLog, start, fmt.Sprintf("no event log of %s under %s after %s", appID, logDir, wait),
			"the driver did not write it: spark.eventLog.dir differs from the History Server's log directory, or the driver could not reach the store (S3A endpoint, credentials, NetworkPolicy)",
			"gen smoke --keep, then kubectl -n "+e.Namespace+" logs <driver pod> | grep -i -e eventlog -e s3a"), ""
	default:
		return fail(StepEventLog, start, "no event log of "+appID+" under "+logDir+" before --timeout", "", "gen smoke --timeout 20m"), ""
	}
}

// pick prefers a finished log over an .inprogress one; a rolling log folder
// is named by its folder.
func pick(keys []string, prefix, appID string) (found string, complete bool) {
	for _, k := range keys {
		name := strings.TrimPrefix(k, prefix)
		if folder, _, ok := strings.Cut(name, "/"); ok {
			// Rolling logs: the folder holds appstatus_<id>[.inprogress] while running.
			if !strings.Contains(name, ".inprogress") || found == "" {
				found = prefix + folder + "/"
			}
			complete = complete || (strings.Contains(name, "/appstatus_") && !strings.HasSuffix(name, ".inprogress"))
			continue
		}
		if !strings.HasSuffix(name, ".inprogress") {
			return k, true
		}
		if found == "" {
			found = k
		}
	}
	return found, complete
}

func (e *EventLogs) connectFailed(start time.Time, err error) Step {
	switch {
	case apierrors.IsNotFound(err):
		return fail(StepEventLog, start, err.Error(), "gen bootstrap creates the credentials Secret and its copies",
			"run gen bootstrap again: it recreates missing credential copies")
	case strings.Contains(err.Error(), "reach the object store"):
		return fail(StepEventLog, start, err.Error(), "the object store is not running or not ready", "gen doctor; gen status")
	default:
		return fail(StepEventLog, start, err.Error(), "", "gen doctor")
	}
}

func (e *EventLogs) listFailed(start time.Time, bucket string, err error) Step {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		switch resp.Code {
		case "NoSuchBucket":
			return fail(StepEventLog, start, "bucket "+bucket+" does not exist", "the bucket Job has not run (it runs when the object store Application syncs)",
				"kubectl -n "+component.ObjectStoreNamespace+" get jobs; gen status")
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied":
			return fail(StepEventLog, start, "the object store refused the credentials of "+e.Namespace+"/"+e.Config.Spec.MinIO.CredentialsSecret+" ("+resp.Code+")",
				"the copy in the job namespace differs from the store's root credentials", "run gen bootstrap again")
		}
	}
	return fail(StepEventLog, start, "list the bucket "+bucket+": "+err.Error(), "", "gen doctor")
}

// Delete removes appID's event log (gen smoke --clean).
func (e *EventLogs) Delete(ctx context.Context, appID string) Step {
	start := time.Now()
	bucket, prefix, err := Location(e.Config.Spec.HistoryServer.LogDirectory)
	if err != nil {
		return fail(StepCleanup, start, err.Error(), "", "")
	}
	c, release, err := e.client(ctx)
	if err != nil {
		return fail(StepCleanup, start, "delete the event log: "+err.Error(), "", "")
	}
	defer release()
	keys, err := e.list(ctx, c, bucket, prefix, appID)
	if err != nil {
		return fail(StepCleanup, start, "delete the event log: "+err.Error(), "", "")
	}
	for _, k := range keys {
		if err := c.RemoveObject(ctx, bucket, k, minio.RemoveObjectOptions{}); err != nil {
			return fail(StepCleanup, start, "delete s3a://"+bucket+"/"+k+": "+err.Error(), "", "")
		}
	}
	return ok(fmt.Sprintf("%s (event log deleted: %d objects)", StepCleanup, len(keys)), start)
}
