# The two set-up commands of README.md. Both create .venv and install snapplan into it.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test conformance-build conformance
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	MINIO_ACCESS_KEY=AKIAFAKEMINIO MINIO_SECRET_KEY=fake-minio-secret \
	  $(VENV)/bin/snapplan plan -f examples/harness/policy.yaml --state examples/harness/cluster-state.yaml

test: install
	$(PY) -m pytest

# The conformance tier (tests/conformance/README.md): real etcd, kube-apiserver, Velero and its aws plugin built
# from their Go modules into .conformance/bin, then scenarios against them. Not part of `make test`.
conformance-build:
	@tests/conformance/build.sh

conformance: install
	@if ! command -v go >/dev/null 2>&1; then \
	  echo "conformance: skipped: no Go toolchain on PATH (the real programs are built from Go modules)"; \
	else \
	  tests/conformance/build.sh && \
	  start=$$(date +%s) && SNAPPLAN_CONFORMANCE=1 $(PY) -m pytest -m conformance tests $(PYTEST_ARGS); rc=$$?; \
	  echo "conformance: scenarios ran in $$(( $$(date +%s) - start ))s"; exit $$rc; \
	fi
