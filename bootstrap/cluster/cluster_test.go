package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/flowcontrol"
)

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: t}
contexts:
- name: rancher-desktop
  context: {cluster: c, user: u}
- name: prod
  context: {cluster: c, user: u}
current-context: prod
`

func TestContextGuardNamesTheCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, command := range []string{"teardown", "status", "bootstrap"} {
		_, _, err := Config(Options{Kubeconfig: path, Context: "prod", Command: command})
		if err == nil || !strings.Contains(err.Error(), "gen "+command+" only uses") {
			t.Errorf("%s on prod without --context: %v", command, err)
		}
	}
	if _, name, err := Config(Options{Kubeconfig: path, Context: "prod", Explicit: true, Command: "status"}); err != nil || name != "prod" {
		t.Errorf("explicit prod: %s, %v", name, err)
	}
	if _, name, err := Config(Options{Kubeconfig: path, Command: "status"}); err != nil || name != DefaultContext {
		t.Errorf("default context: %s, %v (the current context prod must not win)", name, err)
	}
	if _, _, err := Config(Options{Kubeconfig: path, Context: "gone", Explicit: true, Command: "status"}); err == nil || !strings.Contains(err.Error(), "contexts there: prod, rancher-desktop") {
		t.Errorf("missing context: %v", err)
	}
}

func TestIsNoKindSeesThroughWrapping(t *testing.T) {
	noKind := &meta.NoKindMatchError{GroupKind: schema.GroupKind{Group: "argoproj.io", Kind: "Application"}}
	if !IsNoKind(fmt.Errorf("read Application root: %w", noKind)) {
		t.Error("a wrapped no-match error is not recognised")
	}
	if IsNoKind(fmt.Errorf("no matches for kind %q: a string is not the error", "Application")) {
		t.Error("a string that looks like the message is taken for the error")
	}
}

func TestPollEndsEachWay(t *testing.T) {
	ctx := context.Background()
	calls := 0
	if err := Poll(ctx, time.Millisecond, time.Minute, func(context.Context) (bool, error) { calls++; return calls == 3, nil }); err != nil || calls != 3 {
		t.Errorf("done on the third call: %v after %d calls", err, calls)
	}
	if err := Poll(ctx, time.Millisecond, 20*time.Millisecond, func(context.Context) (bool, error) { return false, nil }); !errors.Is(err, ErrTimeout) {
		t.Errorf("never done: %v, want ErrTimeout", err)
	}
	boom := errors.New("boom")
	if err := Poll(ctx, time.Millisecond, time.Minute, func(context.Context) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Errorf("failing condition: %v", err)
	}
	// A check whose request the timeout cuts short is the timeout, not a failure.
	if err := Poll(ctx, time.Millisecond, 20*time.Millisecond, func(pctx context.Context) (bool, error) {
		<-pctx.Done()
		return false, fmt.Errorf("list: %w", pctx.Err())
	}); !errors.Is(err, ErrTimeout) {
		t.Errorf("check cut short by the timeout: %v, want ErrTimeout", err)
	}
	// So is a check that client-go's rate limiter refuses because its wait
	// would pass the deadline (the refusal comes before the deadline).
	limiter := flowcontrol.NewTokenBucketRateLimiter(0.1, 1) // one token, then one per 10 s
	refused := false
	if err := Poll(ctx, time.Millisecond, 200*time.Millisecond, func(pctx context.Context) (bool, error) {
		if err := limiter.Wait(pctx); err != nil {
			refused = pctx.Err() == nil
			// As client-go's request.go wraps it.
			return false, fmt.Errorf("client rate limiter Wait returned an error: %w", err)
		}
		return false, nil
	}); !errors.Is(err, ErrTimeout) || !refused {
		t.Errorf("check refused by the rate limiter before the deadline (refused: %v): %v, want ErrTimeout", refused, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := Poll(cancelled, time.Millisecond, time.Minute, func(context.Context) (bool, error) { return false, nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled (Ctrl-C): %v, want context.Canceled", err)
	}
}
