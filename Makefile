# The two commands a newcomer needs: `make demo` and `make test`. Every target installs what it
# needs on first use (npm ci, the TypeScript build, the Go build of the test control plane).
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE_STAMP := node_modules/.package-lock.json
CLUSTER_DIR := .cluster

.PHONY: help
help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: $(NODE_STAMP) ## install npm dependencies (npm ci)

# Recompiles only when a TypeScript source, tsconfig.json or the dependencies changed since the
# last build (`make cluster`, `make run` and the test targets all depend on it).
TS_SOURCES := $(shell find src test -name '*.ts' -not -path '*/node_modules/*' 2>/dev/null)
BUILD_STAMP := dist/.build-stamp

$(BUILD_STAMP): $(NODE_STAMP) tsconfig.json $(TS_SOURCES)
	npx tsc -p tsconfig.json
	@touch $@

.PHONY: build
build: $(BUILD_STAMP) ## compile TypeScript into dist/ (when a source changed)

.PHONY: control-plane
control-plane: ## build kube-apiserver, kube-controller-manager and etcd from Go modules (cached)
	@test/tools/heartbeat.sh "building the control plane" test/apiserver/build.sh >/dev/null

.PHONY: lint
lint: build ## eslint + prettier check
	npx eslint .
	npx prettier --check .

# The Argo CD health check is Lua: its test runs Debian's lua5.4 (installed when missing).
.PHONY: lua
lua:
	@command -v lua5.4 >/dev/null || { command -v apt-get >/dev/null && \
	  echo "make lua: installing Debian's lua5.4 (apt-get install lua5.4) for the Argo CD health check test" && \
	  { apt-get install -y -qq lua5.4 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq lua5.4 >/dev/null; }; }; } || \
	  { echo "lua5.4 is needed for the Argo CD health check test: apt-get install lua5.4"; exit 1; }

# helm (chart tests) and promtool (alert rule tests), built from Go modules pinned in test/tools/
# and cached in ~/.cache by their go.sum, like the control plane (a heartbeat while building).
.PHONY: tools helm promtool
tools: ## build helm and promtool from Go modules (cached)
	@test/tools/build.sh all
helm:
	@test/tools/build.sh helm >/dev/null
promtool:
	@test/tools/build.sh promtool >/dev/null

# The Helm chart keeps copies of what it cannot reach outside its directory (test-unit checks them).
CHART := config/helm/secure-workspace-operator
.PHONY: chart-sync
chart-sync: ## copy the CRD, the admission policies and config/monitoring into the Helm chart
	cp crds/secureworkspace.yaml $(CHART)/crds/
	cp config/admission-policy.yaml config/operator-confinement-policy.yaml config/guardrails-policy.yaml $(CHART)/files/
	cp config/monitoring/prometheusrule.yaml config/monitoring/dashboard.json $(CHART)/files/monitoring/

.PHONY: test-unit
test-unit: build lua promtool
	npm run --silent test:unit

.PHONY: test-integration
test-integration: build control-plane helm
	npm run --silent test:integration

# The Kubernetes Multi-Tenancy Benchmarks (kubectl-mtb, 18 checks) against two example workspaces.
# Not in `make test`: kubectl-mtb is not on the Go module proxy, so test/tools/kubectl-mtb.sh builds
# it (cached) from a checkout of kubernetes-sigs/multi-tenancy (MTB_SRC=DIR) or a clone from GitHub.
.PHONY: test-mtb
test-mtb: build control-plane ## Multi-Tenancy Benchmarks, kubectl-mtb built from source (MTB_SRC=checkout, else git clone)
	@test/tools/kubectl-mtb.sh >/dev/null
	npx mocha --config test/.mocharc.mtb.json

# Reduced: 2 trials per fault scenario (SWS_FAULT_TRIALS=10 is the full run, about 25 minutes).
.PHONY: test-faults
test-faults: build control-plane ## fault suite on a real cluster (kills, failover, conflicts, slow API)
	SWS_FAULT_TRIALS=$${SWS_FAULT_TRIALS:-2} npm run --silent test:faults

# The benchmark at CI size: it measures and prints (no time limit is asserted); it fails only when
# the run itself fails (a workspace that never converges, a crashed operator).
.PHONY: bench-small
bench-small: build control-plane ## benchmark at 50 workspaces x 2 namespaces (npm run bench for 1000 x 2)
	npm run --silent bench -- --workspaces 50 --namespaces-per-workspace 2 --drift-samples 50

# The real node (#13): kubelet, kube-scheduler, containerd, CNI plugins and kube-router built from
# Go modules (test/nodebuild/, cached in ~/.cache by go.sum; cold about 15 minutes on 2 cores),
# runc, iptables, ipset (and openssl) from Debian (installed here when missing, and said so). Needs root.
.PHONY: node-deps
node-deps:
	@missing=""; for c in runc iptables ipset openssl; do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then echo "node-deps: installing$$missing with apt-get (the real node needs them)"; \
	  { apt-get install -y -qq $$missing >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; }; } || \
	  { echo "the real node needs$$missing: apt-get install$$missing"; exit 1; }; fi

.PHONY: node
node: node-deps ## build the real node (kubelet, containerd, kube-router, ...) from Go modules (cached)
	@test/nodebuild/build.sh all

.PHONY: test-node
test-node: build control-plane node ## tests on a real node: NetworkPolicies on packets, Pod Security, the operator as a pod
	npx mocha --config test/.mocharc.node.json

.PHONY: node-clean
node-clean: build ## clean up after a killed real-node run (processes, mounts, cgroups, iptables, ipsets, paths)
	@node --input-type=module -e "const m = await import('./dist/test/harness/node/host.js'); \
	  console.log(m.recoverHost(console.log) ? 'node-clean: done' : 'node-clean: no node record, nothing to do')"

.PHONY: test
test: test-unit test-integration test-faults bench-small test-node lint ## everything CI runs: unit, integration, faults, small bench, real node, lint

.PHONY: cluster
cluster: build control-plane $(if $(NODE),node) ## start a local real cluster in the background (.cluster/kubeconfig); NODE=1 adds a real node
	@mkdir -p $(CLUSTER_DIR)
	@rm -f $(CLUSTER_DIR)/ready
	@SWS_NODE=$(NODE) nohup node dist/test/harness/cluster-cli.js run > $(CLUSTER_DIR)/cluster.log 2>&1 &
	@for i in $$(seq 1 600); do \
	  if [ -f $(CLUSTER_DIR)/ready ]; then break; fi; \
	  if grep -q '^cluster:' $(CLUSTER_DIR)/cluster.log 2>/dev/null; then cat $(CLUSTER_DIR)/cluster.log; exit 1; fi; \
	  sleep 0.5; done
	@test -f $(CLUSTER_DIR)/ready || { cat $(CLUSTER_DIR)/cluster.log; exit 1; }
	@echo "local cluster running at $$(cat $(CLUSTER_DIR)/ready)"
	@echo "export KUBECONFIG=$(CURDIR)/$(CLUSTER_DIR)/kubeconfig"

.PHONY: cluster-stop
cluster-stop: ## stop the local cluster started by make cluster
	@if [ -f dist/test/harness/cluster-cli.js ]; then node dist/test/harness/cluster-cli.js stop; \
	  else rm -f $(CLUSTER_DIR)/kubeconfig $(CLUSTER_DIR)/operator.kubeconfig; echo "no local cluster"; fi

# `make run`: the operator from this checkout against $KUBECONFIG (default: make cluster's), as the
# operator's ServiceAccount, never as your admin user: the tamper-protection policy exempts only the
# ServiceAccount, so an operator running as the admin would have every update refused (it says so
# at start and exits). The token stays out of every command line (kubectl prints it, the shell's
# printf builtin writes it into a 0600 file).
RUN_KUBECONFIG := $(or $(KUBECONFIG),$(CURDIR)/$(CLUSTER_DIR)/kubeconfig)
OPERATOR_KUBECONFIG := $(CLUSTER_DIR)/operator.kubeconfig
OPERATOR_SA := secure-workspace-operator
OPERATOR_NS := secure-workspace-system

.PHONY: run
run: build ## run the operator locally as its ServiceAccount, not as you (KUBECONFIG, default make cluster's; RUN_FLAGS=...)
	@set -euo pipefail; export KUBECONFIG="$(RUN_KUBECONFIG)"; \
	kubectl config view --minify >/dev/null 2>&1 || \
	  { echo "make run: no usable kubeconfig at $$KUBECONFIG (run make cluster, or set KUBECONFIG)"; exit 1; }; \
	kubectl apply -f crds/secureworkspace.yaml -f config/namespace.yaml -f config/rbac.yaml; \
	view() { kubectl config view --raw --minify --flatten -o jsonpath="{.clusters[0].cluster.$$1}"; }; \
	server=$$(view server); ca=$$(view certificate-authority-data); insecure=$$(view insecure-skip-tls-verify); \
	if [ -n "$$ca" ]; then tls="certificate-authority-data: $$ca"; \
	elif [ "$$insecure" = "true" ]; then tls="insecure-skip-tls-verify: true"; \
	else echo "make run: the current cluster in $$KUBECONFIG has no CA data"; exit 1; fi; \
	token=$$(kubectl create token $(OPERATOR_SA) -n $(OPERATOR_NS) --duration=12h); \
	mkdir -p $(CLUSTER_DIR); rm -f $(OPERATOR_KUBECONFIG); (umask 077; printf '%s\n' \
	  "apiVersion: v1" "kind: Config" "clusters:" "  - name: cluster" "    cluster:" \
	  "      server: $$server" "      $$tls" "users:" "  - name: $(OPERATOR_SA)" "    user:" \
	  "      token: $$token" "contexts:" "  - name: operator" "    context:" "      cluster: cluster" \
	  "      user: $(OPERATOR_SA)" "current-context: operator" > $(OPERATOR_KUBECONFIG)); \
	echo "make run: $(OPERATOR_KUBECONFIG) (ServiceAccount $(OPERATOR_NS)/$(OPERATOR_SA), token valid 12 h)"
	node dist/src/main.js --kubeconfig $(OPERATOR_KUBECONFIG) $(RUN_FLAGS)

# `make deploy`: the operator as a pod, as in production: the image from config/Dockerfile's final
# stage built without Docker, imported into make cluster NODE=1's node, config/ applied with only
# the image swapped (kustomize images + imagePullPolicy Never) against $KUBECONFIG.
.PHONY: deploy
deploy: build node ## the operator as two pods on make cluster NODE=1's node (image built here, config/ applied)
	KUBECONFIG="$(RUN_KUBECONFIG)" node dist/test/harness/node/deploy.js

.PHONY: undeploy
undeploy: build ## remove what make deploy applied (the CRD stays)
	KUBECONFIG="$(RUN_KUBECONFIG)" node dist/test/harness/node/deploy.js --delete

.PHONY: demo
demo: build control-plane ## the demo: local cluster + operator + examples, Ctrl-C stops everything
	node dist/test/harness/demo.js

.PHONY: clean
clean: ## remove build output (the cached control plane stays in ~/.cache)
	rm -rf dist coverage
