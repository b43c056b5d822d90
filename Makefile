# gen: the two commands a newcomer needs are `make render` and `make test`.
# `make help` lists every target.

GO       ?= go
GEN      := $(GO) run ./cmd/gen
KUSTOMIZE_VERSION := v5.8.2

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: render
render: ## render gen.yaml (or the built-in defaults) into manifests/, overlays/, examples/ (offline)
	$(GEN) render

.PHONY: check
check: ## fail when the committed tree is not what the config renders
	$(GEN) render --check

.PHONY: build
build: ## build bin/gen
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/gen ./cmd/gen

.PHONY: controlplane
controlplane: ## build (or reuse) the real kube-apiserver, kube-controller-manager and etcd for tests
	hack/controlplane/build.sh

.PHONY: test
test: controlplane ## run every test: unit, golden, kustomize builds, and the real control plane
	$(GO) test -count=1 -timeout 30m ./...

.PHONY: test-short
test-short: ## the fast tests only (skips those that need the control plane)
	$(GO) test -short ./...

.PHONY: lint
lint: ## gofmt and go vet
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

.PHONY: kustomize
kustomize: ## install the kustomize CLI that make bench compares against
	@command -v kustomize >/dev/null 2>&1 || test -x "$$($(GO) env GOPATH)/bin/kustomize" || $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

.PHONY: bench
bench: kustomize ## benchmarks: go test -bench, and render time as a ratio to kustomize build
	$(GO) test -run '^$$' -bench . -benchmem ./generator/
	$(GO) run ./hack/bench
