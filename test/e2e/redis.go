//go:build linux

package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// StartRedis runs Debian's redis-server on a free 127.0.0.1 port for the
// test and returns its address (host:port). Argo CD uses redis only as a
// cache, so nothing is persisted and there is no password on either side.
func StartRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found: %v\nInstall it (Debian package redis-server) with: hack/argocd/build.sh", err)
	}
	dir := t.TempDir()
	port := FreePorts(t, 1)[0]
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p := StartProcess(t, dir, "redis", bin, []string{
		"--bind", "127.0.0.1",
		"--port", strconv.Itoa(port),
		"--dir", dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
	}, baseEnv())
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := redisPing(addr)
		if err == nil {
			return addr
		}
		if exited, _ := p.Exited(); exited || time.Now().After(deadline) {
			t.Fatalf("redis-server not answering PING at %s: %v\n%s", addr, err, p.Tail(logTailLines))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// redisPing sends PING in redis' inline protocol and expects +PONG.
func redisPing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprint(c, "PING\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("unexpected answer %q", line)
	}
	return nil
}

// FreePorts asks the kernel for n distinct free loopback ports. All listeners
// are held until every port is picked, so no port is returned twice; another
// process could still take one before it is bound, which is rare enough on
// loopback (and in a private network namespace, nearly impossible).
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
