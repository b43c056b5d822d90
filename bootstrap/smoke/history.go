package smoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/rdspark/gen/bootstrap/cluster"
	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/history"
)

// HistoryService is the History Server's UI and REST API.
var HistoryService = Service{Namespace: component.HistoryNamespace, Name: history.Name, Port: history.UIPort}

// History asks the History Server's REST API whether it lists an application.
type History struct {
	Endpoints Endpoints
	// Wait bounds how long the History Server may take to list the
	// application (default 90s: it scans the log directory every
	// spark.history.fs.update.interval, 10 s by default, and parses what
	// it finds); Poll is how often it is asked (default 3s).
	Wait, Poll time.Duration
	// HTTP is the client (default: 10 s per request).
	HTTP *http.Client
}

// ApplicationInfo is an entry of /api/v1/applications (Spark's
// ApplicationInfo, the fields gen reads).
type ApplicationInfo struct {
	ID       string               `json:"id"`
	Name     string               `json:"name"`
	Attempts []ApplicationAttempt `json:"attempts"`
}

// ApplicationAttempt is one attempt of an application.
type ApplicationAttempt struct {
	AttemptID string `json:"attemptId,omitempty"`
	Completed bool   `json:"completed"`
}

// Check waits until the History Server lists appID.
func (h *History) Check(ctx context.Context, appID string) Step {
	start := time.Now()
	base, release, err := h.Endpoints.Open(ctx, HistoryService)
	if err != nil {
		return fail(StepHistory, start, fmt.Sprintf("reach the History Server service %s: %v", HistoryService, err),
			"the History Server is not running or not ready (it crash-loops on a missing S3A class or log directory)", "gen doctor")
	}
	defer release()
	client := h.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	wait, poll := h.Wait, h.Poll
	if wait <= 0 {
		wait = 90 * time.Second
	}
	if poll <= 0 {
		poll = 3 * time.Second
	}
	url := base + "/api/v1/applications"
	var last string
	var found *ApplicationInfo
	err = cluster.Poll(ctx, poll, wait, func(ctx context.Context) (bool, error) {
		apps, err := listApplications(ctx, client, url)
		if err != nil {
			if ctx.Err() == nil { // not the wait's own end cutting the request short
				last = err.Error()
			}
			return false, nil
		}
		last = fmt.Sprintf("it lists %d applications, not %s", len(apps), appID)
		for i, a := range apps {
			if a.ID != appID {
				continue
			}
			if len(a.Attempts) > 0 && !a.Attempts[len(a.Attempts)-1].Completed {
				last = appID + " is listed but not completed"
				return false, nil
			}
			found = &apps[i]
			return true, nil
		}
		return false, nil
	})
	switch {
	case found != nil:
		return ok(fmt.Sprintf("%s lists %s (%s)", StepHistory, appID, found.Name), start)
	case errors.Is(err, cluster.ErrTimeout):
		return fail(StepHistory, start, fmt.Sprintf("after %s: %s", wait, last),
			"the History Server reads another log directory than the job writes to, cannot read the store (S3A credentials or endpoint), or has not scanned yet",
			"kubectl -n "+component.HistoryNamespace+" logs deploy/"+history.Name+" | grep -i -e FsHistoryProvider -e s3a")
	default:
		return fail(StepHistory, start, "before --timeout: "+last, "", "gen smoke --timeout 20m")
	}
}

func listApplications(ctx context.Context, client *http.Client, url string) ([]ApplicationInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/applications: %s: %s", resp.Status, oneLine(string(body), 200))
	}
	var apps []ApplicationInfo
	if err := json.Unmarshal(body, &apps); err != nil {
		return nil, fmt.Errorf("GET /api/v1/applications: not a list of applications: %w", err)
	}
	return apps, nil
}
