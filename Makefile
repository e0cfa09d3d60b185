# questline — the single entry point for building, running and testing.
# `make help` lists the targets. Downloads go to $(QUESTLINE_CACHE), stack state
# to $(QUESTLINE_STATE); neither is inside the repository.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK := $(VENV)/bin/questline-stack
export QUESTLINE_CACHE ?= $(HOME)/.cache/questline
export PIP_CACHE_DIR ?= $(QUESTLINE_CACHE)/pip

# Python packages of this repository, installed editable into one virtualenv.
PACKAGES := services/settings services/event-schema devkit images/builder stack kind services/game-api node spark-apps services/loadgen services/analytics demo

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- setup
.PHONY: system-deps venv
system-deps: browser-deps images-deps ## install the Debian packages the stack and the image builds need (root, apt)
	@./stack/system-deps.sh

venv: $(VENV)/.installed ## create .venv with every package and tool pinned
$(VENV)/.installed: constraints.txt requirements-dev.txt $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	@echo "[make] creating $(VENV) (pip cache: $(PIP_CACHE_DIR))"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -c constraints.txt -r requirements-dev.txt $(foreach p,$(PACKAGES),-e $(p))
	@touch $@

# ---------------------------------------------------------------- local stack
.PHONY: stack-fetch stack-up stack-down stack-purge stack-status stack-logs stack-check
stack-fetch: venv ## download every stack artifact into the cache
	@$(STACK) fetch
stack-up: venv ## start Kafka, HDFS, PostgreSQL, Hive metastore and Trino locally (idempotent)
	@$(STACK) up
stack-down: venv ## stop every stack process
	@$(STACK) down
stack-purge: venv ## stop the stack and delete its state (all data)
	@$(STACK) down --purge
stack-status: venv ## processes, memory and readiness
	@$(STACK) status
stack-logs: venv ## list the log files (make stack-logs NAME=kafka for one)
	@$(STACK) logs $(NAME)
stack-check: stack-up ## end-to-end check: Kafka, HDFS, Spark -> Hive -> Trino
	@$(STACK) check

# ---------------------------------------------------------------- kubernetes on kind (docs/kubernetes.md)
# Needs a Docker engine; kind and skaffold are built at their versions.toml pins into $(QUESTLINE_CACHE)/bin
# unless already on PATH. The offline checks of images/, skaffold.yaml and kind/ run in `make test`.
KIND_CLI := $(VENV)/bin/questline-kind
.PHONY: kind-tools kind-up dev kind-down smoke images-check
kind-tools: venv ## build the pinned kind and skaffold (skaffold: several minutes, once)
	@$(KIND_CLI) tools
kind-up: venv tools ## create the kind cluster with Traefik on ports 80/443 (idempotent; builds helm first)
	@$(KIND_CLI) up
dev: venv ## skaffold dev on kind: build, deploy, port-forward API :8080 and Trino :8081, rebuild on change
	@$(KIND_CLI) dev
kind-down: venv ## delete the kind cluster and everything in it
	@$(KIND_CLI) down
smoke: venv ## post traffic through the ingress, then check the counts through Trino
	@$(KIND_CLI) smoke
images-check: venv ## the offline checks of Dockerfiles, skaffold.yaml and kind (part of make test)
	@$(VENV)/bin/pytest tests/images

# ---------------------------------------------------------------- images (docs/images.md)
# Every image the chart deploys, built by buildah onto the Debian base of versions.toml [base]
# (debootstrap here), OCI archives in $(QUESTLINE_CACHE)/images/<name>.oci.tar. IMAGE=<name> builds one.
IMAGES_CLI := $(VENV)/bin/questline-images
IMAGE ?=
.PHONY: images-deps images test-images
images-deps: ## install buildah, podman, runc, debootstrap (Debian packages; root, idempotent)
	@./images/system-deps.sh
images: venv images-deps ## build all images (make images IMAGE=trino for one); see docs/images.md
	@nice -n 10 $(IMAGES_CLI) build $(IMAGE)
test-images: venv images ## start each image in a real container (podman + runc) and check it does its job
	@$(VENV)/bin/pytest -m images tests/images

# ---------------------------------------------------------------- the one-node cluster (docs/kubernetes.md)
# The same skaffold.yaml (profile `node`) on `make node-up`'s cluster: images built with buildah by
# questline-images and pushed to the node's registry 127.0.0.1:5000, Kafka in plain mode.
.PHONY: node-run node-dev test-cluster
node-run: venv tools ## skaffold run -p node: build, push, deploy, wait until everything is up
	@$(KIND_CLI) node-run
node-dev: venv tools ## skaffold dev -p node: the same, then rebuild and redeploy on change
	@$(KIND_CLI) node-dev
test-cluster: venv tools ## the stack on the one-node cluster for real: deploy, helm test, smoke, accounting (long)
	@$(VENV)/bin/pytest -s -m cluster tests/cluster

# ---------------------------------------------------------------- game API (docs/api.md)
.PHONY: api bench-deps bench-api
api: venv ## run the game API locally on :8000 against the stack's Kafka (make stack-up first)
	@eval "$$($(STACK) env --trino-user dashboard)" && exec $(VENV)/bin/gunicorn -c python:questline_api.gunicorn_conf
bench-deps: ## install the benchmark's load client (wrk, Debian package; root)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk; }
bench-api: venv bench-deps ## benchmark: hello baseline vs single event vs batch; original-style game vs legacy GET (BENCH_FLAGS=--port 18000)
	@$(PY) bench/bench_api.py $(BENCH_FLAGS)

# ---------------------------------------------------------------- spark jobs (docs/spark.md)
.PHONY: spark-tables spark-stream spark-batch spark-maintain spark-maintain-loop spark-compact spark-compact-loop spark-kpi test-spark test-spark-stack bench-spark bench-compaction
spark-tables: stack-up ## create the questline database and tables (idempotent)
	@eval "$$($(STACK) env)" && $(VENV)/bin/create-tables
spark-stream: stack-up ## run the streaming job Kafka -> tables (Ctrl-C to stop; resumes from its checkpoint)
	@eval "$$($(STACK) env)" && exec $(VENV)/bin/stream-events-to-hdfs
spark-batch: stack-up ## load the whole topic into the tables (idempotent)
	@eval "$$($(STACK) env)" && $(VENV)/bin/load-events-batch
spark-maintain: stack-up ## maintenance pass: retention, player erasure, compaction (docs/spark.md)
	@eval "$$($(STACK) env)" && $(VENV)/bin/maintain-tables $(MAINTAIN_FLAGS)
MAINTAIN_EVERY ?= 3600
spark-maintain-loop: stack-up ## a maintenance pass every MAINTAIN_EVERY seconds (default 3600) until Ctrl-C
	@eval "$$($(STACK) env)" && exec $(VENV)/bin/maintain-tables --loop $(MAINTAIN_EVERY) $(MAINTAIN_FLAGS)
spark-compact: stack-up ## compact closed partitions: many small files -> a few large ones, swapped in atomically
	@eval "$$($(STACK) env)" && $(VENV)/bin/compact-tables $(COMPACT_FLAGS)
COMPACT_EVERY ?= 3600
spark-compact-loop: stack-up ## compact every COMPACT_EVERY seconds (default 3600) until Ctrl-C
	@eval "$$($(STACK) env)" && exec $(VENV)/bin/compact-tables --loop $(COMPACT_EVERY) $(COMPACT_FLAGS)
# DAY=2026-11-01, or FROM=2026-11-01 [TO=2026-11-30]; neither: today and yesterday (docs/analytics.md).
KPI_DAYS = $(if $(DAY),--day $(DAY))$(if $(FROM),--from $(FROM))$(if $(TO), --to $(TO))
spark-kpi: stack-up ## KPI tables (sessions, DAU, retention, revenue, funnel, guilds) of DAY, FROM..TO, or today+yesterday
	@eval "$$($(STACK) env)" && $(VENV)/bin/compute-kpis $(KPI_DAYS)
test-spark: venv ## unit tests of the transform library (local Spark, no servers)
	@$(VENV)/bin/pytest spark-apps -m "not stack"
test-spark-stack: venv ## the Spark jobs against the local stack (started if needed)
	@$(VENV)/bin/pytest spark-apps -m stack
bench-spark: stack-up ## benchmarks: streaming throughput vs plain copy; POST -> Trino freshness
	@eval "$$($(STACK) env)" && $(PY) bench/bench_spark_stream.py && $(PY) bench/bench_freshness.py
bench-compaction: stack-up ## benchmark: report-like queries over 5,000 small files vs the same rows compacted
	@eval "$$($(STACK) env)" && $(PY) bench/bench_compaction.py

# ---------------------------------------------------------------- the local cluster (docs/node.md)
# A one-node Kubernetes built from the Go module proxy and Debian's container runtime (root):
# control plane, containerd + runc, kubelet, kube-proxy, CoreDNS, local-path storage, Traefik
# ingress on 127.0.0.1:80 and an image registry on 127.0.0.1:5000. The API server can also run
# alone on loopback (apiserver-*), which is what the chart install tests use.
NODE := $(VENV)/bin/questline-node
APISERVER := $(VENV)/bin/questline-apiserver
.PHONY: node-deps node-build node-up node-status node-down node-purge node-load test-node
.PHONY: apiserver-build apiserver-up apiserver-down apiserver-status test-apiserver
node-deps: ## install containerd, runc, CNI plugins, iptables, conntrack, buildah, skopeo (root, apt; idempotent)
	@./node/system-deps.sh
node-build: venv ## build every binary of the node once per pinned version (cold: see docs/node.md)
	@$(NODE) build
node-up: venv node-deps ## start the one-node cluster (idempotent; builds first if needed); prints KUBECONFIG
	@$(NODE) up
node-status: venv ## processes, memory, node conditions and add-ons (JSON)
	@$(NODE) status
node-down: venv ## stop the node, data kept; leaves no process, mount, netns, veth or iptables chain
	@$(NODE) down
node-purge: venv ## stop the node and delete its state (etcd, registry, volumes, certificates)
	@$(NODE) purge
node-load: venv ## push the OCI archive QUESTLINE_CACHE/images/IMAGE.oci.tar into the node registry (make node-load IMAGE=game-api)
	@test -n "$(IMAGE)" || { echo "usage: make node-load IMAGE=<name>" >&2; exit 2; }
	@$(NODE) load $(IMAGE)
test-node: venv node-deps ## pods, Services + DNS, PVCs, Ingress, OOM, probes, Jobs, RBAC, restart, purge on a fresh node
	@$(VENV)/bin/pytest -m node tests/node
apiserver-build: venv ## build kube-apiserver and etcd once per pinned version
	@$(APISERVER) build
apiserver-up: venv ## start etcd and kube-apiserver alone on 127.0.0.1 (builds first if needed); prints KUBECONFIG
	@$(APISERVER) up
apiserver-down: venv ## stop them (make apiserver-down PURGE=1 also deletes certificates and etcd data)
	@$(APISERVER) down $(if $(PURGE),--purge)
apiserver-status: venv ## pids, memory and readiness
	@$(APISERVER) status
test-apiserver: venv ## helm install/upgrade/uninstall of the chart against the real API server
	@$(VENV)/bin/pytest -m apiserver tests/apiserver

# ---------------------------------------------------------------- helm charts (docs/charts.md)
.PHONY: tools charts-schemas charts-check
tools: venv ## build helm + kubeconform and lay out the Kubernetes and Strimzi schemas (once per pin)
	@./tools/install.sh >/dev/null
charts-schemas: venv ## write the shared $defs of every values.schema.json from charts/values-schema-definitions.yaml
	@$(PY) tools/values_schemas.py
charts-check: venv tools ## lint, render and validate the charts offline, security checks included (part of make test)
	@$(PY) tools/values_schemas.py --check
	@$(VENV)/bin/pytest -m charts tests/charts tests/security

# ---------------------------------------------------------------- web pages (docs/web.md)
# /play and /dashboard are served by the game API (make api); the tests drive Debian's Chromium.
.PHONY: browser-deps test-browser
browser-deps: ## install Debian's chromium for the browser tests (root, apt; no browser download)
	@./tests/browser/system-deps.sh
test-browser: venv browser-deps ## /play and /dashboard in headless Chromium against the local stack
	@$(VENV)/bin/pytest -m browser tests/browser

# ---------------------------------------------------------------- reliability and security (docs/reliability.md)
# The long fault scenarios run on a private stack (own state dir and free ports, down --purge at
# the end); their short versions are part of `make test`. SOAK_SECONDS bounds the soak (default 600).
SOAK_SECONDS ?= 600
.PHONY: test-faults test-security
test-faults: venv ## long fault injection + bounded soak (Kafka, driver, metastore/Trino kills; ~40 min)
	@QUESTLINE_SOAK_SECONDS=$(SOAK_SECONDS) $(VENV)/bin/pytest -s -m faults tests/faults
test-security: venv tools ## every security check over the rendered charts, all in tests/security (part of make test)
	@$(VENV)/bin/pytest -m charts tests/security

# ---------------------------------------------------------------- tests
.PHONY: lint test test-unit
lint: venv ## ruff
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

test-unit: venv ## fast tests: no servers needed
	@$(VENV)/bin/pytest -m "not stack and not charts and not apiserver and not node and not browser and not faults and not e2e and not images and not cluster"

# pytest exits 5 when a marker selects no test; that is not a failure here.
test: venv ## every test CI runs (starts the local stack itself)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/pytest -m "not faults and not node and not cluster" || [ $$? -eq 5 ]

# ---------------------------------------------------------------- main job (docs/walkthrough.md)
# `make demo`: stack up, tables, API + streaming job in the background, simulated players for
# DEMO_DURATION seconds, report, and the ground-truth accounting (non-zero exit if any event is
# missing or duplicated). DEMO_FLAGS passes more simulator flags (questline-loadgen --help).
# The driver is the package demo/ (questline_demo).
DEMO_DURATION ?= 60
DEMO_FLAGS ?=
.PHONY: demo demo-stop report bench
demo: venv ## the main job: players -> API -> Kafka -> Spark -> HDFS/Hive -> Trino, then count every event
	@$(VENV)/bin/questline-demo --duration $(DEMO_DURATION) $(DEMO_FLAGS)
demo-stop: venv ## stop the API and the streaming job `make demo` left running (make stack-down stops the rest)
	@$(VENV)/bin/questline-demo --stop
report: venv ## print the analytics report from Trino and write report.html
	@eval "$$($(STACK) env --trino-user report)" && $(VENV)/bin/questline report
bench: venv ## run every bench/bench_*.py; results in bench/results/ (JSON + Markdown summary)
	@$(PY) bench/run_all.py
