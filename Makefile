# gen: the two commands a newcomer needs are `make render` and `make test`.
# `make help` lists every target.

GO       ?= go
# gen is built once into bin/gen and reused; it is rebuilt only when a Go
# source (tests aside), go.mod or go.sum is newer than the binary.
GEN      := bin/gen
GEN_SOURCES := $(shell find . -name '*.go' ! -name '*_test.go' ! -path './hack/*' ! -path './test/*' ! -path './.*' 2>/dev/null) go.mod go.sum
KUSTOMIZE_VERSION := v5.8.2

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

bin/gen: $(GEN_SOURCES)
	@test -x bin/gen || echo "building bin/gen: the first build compiles gen and its Kubernetes and kustomize libraries, a few minutes (3 min 43 s measured on 2 busy cores); later builds reuse Go's cache"
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/gen ./cmd/gen

.PHONY: render
render: bin/gen ## render gen.yaml (or the built-in defaults) into manifests/, overlays/, examples/ (offline)
	$(GEN) render

.PHONY: check
check: bin/gen ## fail when the committed tree is not what the config renders
	$(GEN) render --check

# Day 2 on the laptop (Rancher Desktop's context). CONTEXT=... to name another.
GEN_CLUSTER_FLAGS := $(if $(CONTEXT),--context $(CONTEXT))

.PHONY: up
up: check image-if-missing ## the committed tree is current, the Spark image is built, then gen bootstrap (install Argo CD, point it at the tree)
	$(GEN) bootstrap $(GEN_CLUSTER_FLAGS)

.PHONY: down
down: bin/gen ## gen teardown: remove the platform and Argo CD (MinIO's data is kept)
	$(GEN) teardown $(GEN_CLUSTER_FLAGS)

.PHONY: status
status: bin/gen ## gen status: Applications, workloads, URLs
	$(GEN) status $(GEN_CLUSTER_FLAGS)

.PHONY: sync
sync: ## gen sync: make the pushed commit live now (hard refresh), wait until every Application runs it
	$(GEN) sync $(GEN_CLUSTER_FLAGS)

.PHONY: validate
validate: bin/gen ## gen doctor: every check, with the likely cause and fix of each failure
	$(GEN) doctor $(GEN_CLUSTER_FLAGS)

.PHONY: smoke
smoke: ## gen smoke: run SparkPi through the platform, check its event log and the History Server
	$(GEN) smoke $(GEN_CLUSTER_FLAGS)

.PHONY: build
build: bin/gen ## build bin/gen (again only when its sources changed)

.PHONY: controlplane
controlplane: ## build (or reuse) the real kube-apiserver, kube-controller-manager and etcd for tests
	hack/controlplane/build.sh

.PHONY: argocd
argocd: ## build (or reuse) the real Argo CD controller and repo-server for the end-to-end tests
	hack/argocd/build.sh

.PHONY: objectstore
objectstore: ## build (or reuse) the real MinIO server, mc and SeaweedFS's weed for test/objectstore
	hack/objectstore/build.sh

.PHONY: sparkoperator
sparkoperator: ## build (or reuse) the real Spark Operator (controller + webhook) that test/sparkoperator runs
	hack/sparkoperator/build.sh

.PHONY: spark
spark: ## assemble (or reuse) the Spark 4.0.4 SPARK_HOME the tests run: pyspark's jars and bin/ from PyPI, the S3A jars from Maven Central
	hack/spark/build.sh

.PHONY: upstream
upstream: ## fetch (or verify) the pinned upstream files the tests serve: Argo CD install.yaml, Spark Operator CRDs
	hack/upstream/fetch.sh

.PHONY: test
test: upstream controlplane argocd objectstore sparkoperator spark ## run every test: unit, golden, kustomize builds, the real control plane, a real Argo CD, object stores, Spark Operator and Spark
	$(GO) test -count=1 -timeout 45m ./...

.PHONY: test-short
test-short: upstream ## the fast tests only (skips those that need the control plane)
	$(GO) test -short ./...

# Fuzzing (issue 9): config decoding + validation, and the tree writer's path
# handling. A crash is saved under <package>/testdata/fuzz/<target>/ and fails
# the run; commit it with the fix, it is a regression test from then on.
FUZZTIME ?= 2m
FUZZ_TARGETS := FuzzLoad:./generator/config FuzzWrite:./generator/tree FuzzFastYAML:./generator/manifest

.PHONY: fuzz
fuzz: ## fuzz FuzzLoad (config) and FuzzWrite (tree paths), FUZZTIME each (default 2m)
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t%%:*} ($${t#*:}) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) $${t#*:}; \
	done

.PHONY: fuzz-short
fuzz-short: ## the bounded fuzz run for CI: 10s per target
	@$(MAKE) --no-print-directory fuzz FUZZTIME=10s

.PHONY: lint
lint: ## gofmt and go vet
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# macOS (issue 15): users run Rancher Desktop on a Mac. go vet type-checks every
# package with its tests for darwin; go test -exec /bin/true compiles and links
# every test binary for darwin without running it (it cannot run here).
.PHONY: cross
cross: ## macOS: go vet, and compile every package's tests, for GOOS=darwin (nothing runs)
	GOOS=darwin $(GO) vet ./...
	GOOS=darwin $(GO) test -short -count=1 -exec /bin/true ./... >/dev/null

.PHONY: kustomize
kustomize: ## install the kustomize CLI that make bench compares against
	@command -v kustomize >/dev/null 2>&1 || test -x "$$($(GO) env GOPATH)/bin/kustomize" || $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

.PHONY: bench
bench: kustomize controlplane upstream ## benchmarks, as ratios to kustomize build and kubectl apply measured in the same run
	$(GO) test -run '^$$' -bench . -benchmem ./generator/
	$(GO) run ./hack/bench
	$(GO) test -run '^$$' -bench StartToReady -benchtime 5x ./internal/testcluster/
	$(GO) test -run '^$$' -bench 'ArgoCDInstall|TreeReapply' -benchtime 5x ./test/integration/

# The Spark + S3A image (image/Dockerfile, rendered by gen render from spec.spark).
# IMAGE is the reference the History Server and the examples run, read from the
# Dockerfile's "# image: " line so that it is never derived a second way here.
IMAGE = $(shell sed -n 's/^# image: //p' image/Dockerfile 2>/dev/null)
# IMAGE_TOOL builds where the cluster looks for images: containerd's k8s.io
# namespace (nerdctl) when Rancher Desktop runs containerd, dockerd (docker)
# when it runs dockerd. Override: IMAGE_TOOL=docker, IMAGE_TOOL="nerdctl --namespace k8s.io".
IMAGE_TOOL ?= $(shell if command -v nerdctl >/dev/null 2>&1 && nerdctl --namespace k8s.io info >/dev/null 2>&1; then echo "nerdctl --namespace k8s.io"; elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then echo docker; fi)
# What image-test runs inside the image: the user, and hadoop-aws of the very
# Hadoop the image's Spark ships, next to an AWS SDK bundle.
define IMAGE_TEST_SCRIPT
set -eu
cd /opt/spark/jars
test "$$(id -u)" = 185 || { echo "runs as uid $$(id -u), not 185" >&2; exit 1; }
hadoop=$$(ls hadoop-client-api-*.jar | sed 's/^hadoop-client-api-//; s/[.]jar$$//')
test -f "hadoop-aws-$$hadoop.jar" || { echo "no hadoop-aws-$$hadoop.jar for the Hadoop $$hadoop of this Spark:" >&2; ls | grep aws >&2; exit 1; }
sdk=$$(ls | grep -E '^(aws-java-sdk-bundle|bundle)-[0-9.]+[.]jar$$') || { echo "no AWS SDK bundle jar" >&2; exit 1; }
echo "ok: uid 185, Hadoop $$hadoop, hadoop-aws-$$hadoop.jar, $$sdk"
endef
export IMAGE_TEST_SCRIPT

.PHONY: image-tool
image-tool:
	@test -n "$(IMAGE)" || { echo "image/Dockerfile is missing or names no image: run make render" >&2; exit 1; }
	@test -n "$(IMAGE_TOOL)" || { echo "no container runtime answers (nerdctl --namespace k8s.io info, docker info): start Rancher Desktop, or set IMAGE_TOOL" >&2; exit 1; }

.PHONY: image
image: image-tool ## build image/Dockerfile as the image the tree runs, where the cluster finds it (no registry)
	@echo "building $(IMAGE) with $(IMAGE_TOOL)"
	$(IMAGE_TOOL) build -t $(IMAGE) image

# make up builds the image before Argo CD runs the History Server from it:
# only when a container runtime answers and the image is not there yet.
.PHONY: image-if-missing
image-if-missing:
	@if [ -z "$(IMAGE)" ]; then \
		echo "image/Dockerfile is missing or names no image: run make render" >&2; exit 1; \
	elif [ -z "$(IMAGE_TOOL)" ]; then \
		echo "no container runtime answers: the Spark image $(IMAGE) is not built; start Rancher Desktop and run make image before the History Server syncs"; \
	elif $(IMAGE_TOOL) image inspect $(IMAGE) >/dev/null 2>&1; then \
		echo "the Spark image $(IMAGE) is there ($(IMAGE_TOOL))"; \
	else \
		echo "the Spark image $(IMAGE) is missing: building it (make image)"; \
		$(MAKE) --no-print-directory image; \
	fi

.PHONY: image-test
image-test: image-tool ## run the built image: uid 185, hadoop-aws of its own Hadoop, an AWS SDK bundle
	@echo "checking $(IMAGE) with $(IMAGE_TOOL) run"
	@$(IMAGE_TOOL) run --rm --entrypoint /bin/sh $(IMAGE) -c "$$IMAGE_TEST_SCRIPT"

.PHONY: image-push
image-push: image-tool ## push the built image: make image-push REGISTRY=registry.example.com/team
	@test -n "$(REGISTRY)" || { echo "usage: make image-push REGISTRY=registry.example.com/team" >&2; exit 1; }
	@echo "pushing $(IMAGE) as $(REGISTRY)/$(notdir $(IMAGE)) with $(IMAGE_TOOL)"
	$(IMAGE_TOOL) tag $(IMAGE) $(REGISTRY)/$(notdir $(IMAGE))
	$(IMAGE_TOOL) push $(REGISTRY)/$(notdir $(IMAGE))
	@if [ "$(REGISTRY)/$(notdir $(IMAGE))" != "$(IMAGE)" ]; then echo "the tree runs $(IMAGE): to run the pushed image, set spec.spark.image: $(REGISTRY)/$(firstword $(subst :, ,$(notdir $(IMAGE)))) in gen.yaml and run gen render"; fi
