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

.PHONY: build
build: deps ## compile TypeScript into dist/
	npx tsc -p tsconfig.json

.PHONY: control-plane
control-plane: ## build kube-apiserver, kube-controller-manager and etcd from Go modules (cached)
	@test/apiserver/build.sh >/dev/null

.PHONY: lint
lint: build ## eslint + prettier check
	npx eslint .
	npx prettier --check .

# The Argo CD health check is Lua: its test runs Debian's lua5.4 (installed when missing).
.PHONY: lua
lua:
	@command -v lua5.4 >/dev/null || { command -v apt-get >/dev/null && apt-get install -y -qq lua5.4 >/dev/null; } || \
	  { echo "lua5.4 is needed for the Argo CD health check test: apt-get install lua5.4"; exit 1; }

.PHONY: test-unit
test-unit: build lua
	npm run --silent test:unit

.PHONY: test-integration
test-integration: build control-plane
	npm run --silent test:integration

# Reduced: 2 trials per fault scenario (SWS_FAULT_TRIALS=10 is the full run, about 25 minutes).
.PHONY: test-faults
test-faults: build control-plane ## fault suite on a real cluster (kills, failover, conflicts, slow API)
	SWS_FAULT_TRIALS=$${SWS_FAULT_TRIALS:-2} npm run --silent test:faults

# The benchmark at CI size: it measures and prints (no time limit is asserted); it fails only when
# the run itself fails (a workspace that never converges, a crashed operator).
.PHONY: bench-small
bench-small: build control-plane ## benchmark at 50 workspaces x 2 namespaces (npm run bench for 1000 x 2)
	npm run --silent bench -- --workspaces 50 --namespaces-per-workspace 2 --drift-samples 50

.PHONY: test
test: test-unit test-integration test-faults bench-small lint ## everything CI runs: unit, integration, faults, small bench, lint

.PHONY: cluster
cluster: build control-plane ## start a local real cluster in the background (.cluster/kubeconfig)
	@mkdir -p $(CLUSTER_DIR)
	@rm -f $(CLUSTER_DIR)/ready
	@nohup node dist/test/harness/cluster-cli.js run > $(CLUSTER_DIR)/cluster.log 2>&1 &
	@for i in $$(seq 1 600); do \
	  if [ -f $(CLUSTER_DIR)/ready ]; then break; fi; \
	  if grep -q '^cluster:' $(CLUSTER_DIR)/cluster.log 2>/dev/null; then cat $(CLUSTER_DIR)/cluster.log; exit 1; fi; \
	  sleep 0.5; done
	@test -f $(CLUSTER_DIR)/ready || { cat $(CLUSTER_DIR)/cluster.log; exit 1; }
	@echo "local cluster running at $$(cat $(CLUSTER_DIR)/ready)"
	@echo "export KUBECONFIG=$(CURDIR)/$(CLUSTER_DIR)/kubeconfig"

.PHONY: cluster-stop
cluster-stop: ## stop the local cluster started by make cluster
	@if [ -f dist/test/harness/cluster-cli.js ]; then node dist/test/harness/cluster-cli.js stop; else echo "no local cluster"; fi

.PHONY: demo
demo: build control-plane ## the demo: local cluster + operator + examples, Ctrl-C stops everything
	node dist/test/harness/demo.js

.PHONY: clean
clean: ## remove build output (the cached control plane stays in ~/.cache)
	rm -rf dist coverage
