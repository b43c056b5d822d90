package smoke

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// Service is a port of an in-cluster Service.
type Service struct {
	Namespace, Name string
	Port            int
}

func (s Service) String() string { return fmt.Sprintf("%s/%s:%d", s.Namespace, s.Name, s.Port) }

// Endpoints makes in-cluster Services reachable from where gen runs.
type Endpoints interface {
	// Open returns a base URL (http://host:port) that reaches s, and a
	// function that releases it.
	Open(ctx context.Context, s Service) (string, func(), error)
}

// Loopback is an Endpoints for tests and for Services already reachable: a
// fixed base URL per Service ("namespace/name:port").
type Loopback map[string]string

// Open returns the URL given for s.
func (l Loopback) Open(_ context.Context, s Service) (string, func(), error) {
	u, ok := l[s.String()]
	if !ok {
		return "", nil, fmt.Errorf("no address for service %s", s)
	}
	return u, func() {}, nil
}

// serviceOf parses an in-cluster URL (http://name.namespace.svc[.cluster.local]:port).
func serviceOf(raw string) (Service, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return Service{}, false
	}
	host := strings.TrimSuffix(strings.TrimSuffix(u.Hostname(), ".cluster.local"), ".svc")
	if host == u.Hostname() {
		return Service{}, false
	}
	name, ns, ok := strings.Cut(host, ".")
	if !ok || strings.Contains(ns, ".") {
		return Service{}, false
	}
	port := 80
	if u.Port() != "" {
		port, err = strconv.Atoi(u.Port())
		if err != nil {
			return Service{}, false
		}
	}
	return Service{Namespace: ns, Name: name, Port: port}, true
}

// PortForward opens a port-forward, as kubectl port-forward does, from a
// free port on 127.0.0.1 to a ready pod behind the Service.
type PortForward struct {
	Config *rest.Config
	Client kubernetes.Interface
}

// Open forwards a local port to s.
func (f *PortForward) Open(ctx context.Context, s Service) (string, func(), error) {
	pod, port, err := f.target(ctx, s)
	if err != nil {
		return "", nil, err
	}
	transport, upgrader, err := spdy.RoundTripperFor(f.Config)
	if err != nil {
		return "", nil, err
	}
	req := f.Client.CoreV1().RESTClient().Post().Resource("pods").Namespace(s.Namespace).Name(pod).SubResource("portforward")
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, req.URL())
	stop, ready := make(chan struct{}), make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		return "", nil, err
	}
	done := make(chan error, 1)
	go func() { done <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-done:
		return "", nil, fmt.Errorf("port-forward to pod %s/%s: %w", s.Namespace, pod, err)
	case <-ctx.Done():
		close(stop)
		return "", nil, ctx.Err()
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		close(stop)
		return "", nil, fmt.Errorf("port-forward to pod %s/%s: no local port: %v", s.Namespace, pod, err)
	}
	closeOnce := func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
	}
	return fmt.Sprintf("http://127.0.0.1:%d", ports[0].Local), closeOnce, nil
}

// target is a ready pod behind the Service and its container port for s.Port.
func (f *PortForward) target(ctx context.Context, s Service) (string, int, error) {
	svc, err := f.Client.CoreV1().Services(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
	if err != nil {
		return "", 0, fmt.Errorf("service %s/%s: %w", s.Namespace, s.Name, err)
	}
	var target *intstr.IntOrString
	for _, p := range svc.Spec.Ports {
		if int(p.Port) == s.Port {
			t := p.TargetPort
			target = &t
		}
	}
	if target == nil {
		return "", 0, fmt.Errorf("service %s/%s has no port %d", s.Namespace, s.Name, s.Port)
	}
	pods, err := f.Client.CoreV1().Pods(s.Namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil {
		return "", 0, err
	}
	for _, pod := range pods.Items {
		if !podReady(pod) {
			continue
		}
		if target.Type == intstr.Int {
			if target.IntVal == 0 {
				return pod.Name, s.Port, nil
			}
			return pod.Name, int(target.IntVal), nil
		}
		for _, c := range pod.Spec.Containers {
			for _, p := range c.Ports {
				if p.Name == target.StrVal {
					return pod.Name, int(p.ContainerPort), nil
				}
			}
		}
	}
	return "", 0, fmt.Errorf("service %s/%s has no ready pod", s.Namespace, s.Name)
}

func podReady(pod corev1.Pod) bool {
	if pod.Status.Phase != corev1.PodRunning || pod.DeletionTimestamp != nil {
		return false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
