# PyML's two set-up commands are `make demo` and `make test`; both install what is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
JAR := gateway-java/target/pyml-gateway.jar
JSA := gateway-java/target/pyml-gateway.jsa
JAVA_INPUTS := pom.xml gateway-java/pom.xml launcher/pyml_launcher/container_policy.json \
	$(shell find gateway-java/src protos -type f 2>/dev/null)
MVN := mvn -B --no-transfer-progress

.PHONY: help tools docker base-image setup dist dist-files gateway-jar gateway-image gateway-container examples demo test test-java test-python lint protos gateway bench bench-offline bench-oip bench-memory bench-peers

help:
	@echo "make demo     train the example, start the gateway, deploy, predict, then offline (Spark)"
	@echo "              into a Hive table and a parity check with the gateway (sets everything up)"
	@echo "make test     the whole suite: lint, then the Java tests beside the Python unit and"
	@echo "              end-to-end tests"
	@echo "make gateway  run the gateway in the foreground on port 7070 (on the host: java -jar)"
	@echo "make gateway-image      build the gateway's container image (pyml/gateway:latest)"
	@echo "make gateway-container  run that image, model containers beside it (127.0.0.1:7070)"
	@echo "make dist     a release in dist/: the pyml wheel, the pyml-gateway wheel (the jar for"
	@echo "              pip), the jar, SHA256SUMS; and the image pyml/gateway:<version>"
	@echo "make lint     ruff, mypy, stale generated stubs"
	@echo "make protos   regenerate the Python stubs from protos/"
	@echo "make bench    online overhead benchmark"
	@echo "make bench-offline  Spark job in the model image vs in-process predict, 1M rows"
	@echo "make bench-oip  Triton's perf_analyzer on the OIP port next to pyml.Client (gRPC)"
	@echo "make bench-memory  gateway RSS before, during and after stalled 63 MiB gRPC messages"
	@echo "make bench-peers   MLServer vs PyML (h2load, perf_analyzer) and the in-process floor;"
	@echo "                   BENCH_PEERS_ARGS='--quick' for a 2-3 minute subset"

tools:
	@scripts/bootstrap.sh

# A Docker engine that answers: Debian's docker.io and dockerd in the background if needed.
docker:
	@scripts/ensure_docker.sh

# PyML's own base image, built once from Debian packages (no registry needed), then reused.
base-image: $(VENV)/.installed docker
	$(VENV)/bin/pyml images base

$(VENV)/.installed: pyproject.toml | tools
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	# --no-compile, then compileall on every core without the packages' own tests: pip
	# compiles one file at a time, tests too (pyspark alone: about 15 s). Compiled here, not
	# left to the first import: with PYTHONDONTWRITEBYTECODE set (as here) nothing would
	# ever be written, and every Python process the tests start would compile pandas,
	# pyarrow and scikit-learn again (4.6 s to import them, against 1.9 s compiled).
	$(VENV)/bin/pip install -q --no-compile -e '.[dev,spark]'
	$(VENV)/bin/python -m compileall -qq -j 0 -x '/tests?/' \
		$$($(VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
	touch $@

$(JAR): $(JAVA_INPUTS) | tools
	$(MVN) -q -DskipTests package

# The gateway's class archive (launcher/pyml_launcher/gateway_jvm.py): starts in half the time.
$(JSA): $(JAR) launcher/pyml_launcher/gateway_class_archive.sh
	sh launcher/pyml_launcher/gateway_class_archive.sh $(abspath $(JAR)) $(abspath $(JSA))

gateway-jar: $(JAR)

# What a release ships (scripts/dist.py says what each file is for); the same commit gives the
# same bytes. dist-files: without the gateway image (no Docker needed).
dist-files: setup
	$(PY) scripts/dist.py

dist: setup base-image
	$(PY) scripts/dist.py --image

setup: $(VENV)/.installed $(JAR) $(JSA)

examples: setup
	$(PY) examples/train_breast_cancer.py
	$(PY) examples/make_softmax_tensor.py

demo: setup base-image
	$(PY) scripts/demo.py

# GATEWAY_ARGS: more `pyml gateway` options, e.g. GATEWAY_ARGS='--grpc-port 0 --on-stop leave'.
# SIGTERM to make reaches the gateway (make passes it on to its child, the JVM after exec).
gateway: setup
	$(VENV)/bin/pyml gateway $(GATEWAY_ARGS)

# The gateway as a container (JRE 17 + the jar) on PyML's base image; cached: seconds when
# only the jar changed.
gateway-image: setup base-image
	$(VENV)/bin/pyml images gateway

# Nested mode, as in production: the gateway container starts model containers beside it.
gateway-container: gateway-image
	$(VENV)/bin/pyml gateway --container

protos: $(VENV)/.installed
	scripts/gen_python_stubs.sh

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	scripts/gen_python_stubs.sh --check

# `test`, not `verify`: packaging again would give the jar a new time, which the class archive
# beside it (made by `setup`) is checked against.
test-java: tools
	$(MVN) test

test-python: setup base-image
	scripts/run_pytest.sh

# Lint first (fast failures), then the Java tests beside the Python suite (scripts/test_all.sh).
# Docker and the base image come first too: the two makes it starts then only find them made
# (ensure_docker.sh may run apt-get, which must not race another install).
test: setup base-image
	$(MAKE) lint
	scripts/test_all.sh

bench: setup base-image
	$(PY) bench/online_overhead.py
	$(PY) bench/deploy.py

bench-offline: setup base-image
	$(PY) bench/offline.py

# Installs tritonclient's perf_analyzer in .venv-oip (and libb64-0d) if missing.
bench-oip: setup
	$(PY) bench/oip_perf_analyzer.py

bench-memory: setup
	$(PY) bench/gateway_memory.py

# MLServer in .venv-mlserver, h2load (nghttp2-client) and perf_analyzer (.venv-oip) are
# installed when missing. Extra options: BENCH_PEERS_ARGS='--quick --resources cpus=2 ...'.
bench-peers: setup base-image
	$(PY) -m bench.peers $(BENCH_PEERS_ARGS)
