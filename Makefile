# The two set-up commands of README.md. Both create .venv and install snapplan into it.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test
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
