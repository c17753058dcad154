# Two entry points (README "Quick start"): `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint install clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "error: $(PY) not found; set PY=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The shipped demo models (srbench_eval/zoo/README.md) against bicubic on the embedded demo set.
DEMO_MODELS := bicubic,srcnn,lapsrn-fdl,rrdb,rrdb-sog
DEMO_OUT := results/runs/demo-$(shell date +%Y%m%d-%H%M%S)
demo: $(STAMP)
	$(BIN)/srbench-eval run --models $(DEMO_MODELS) --datasets demo --scale 4 --checkpoints zoo --save-sr --out $(DEMO_OUT)
	$(BIN)/srbench-eval report $(DEMO_OUT) --out $(DEMO_OUT)/report

test: $(STAMP)
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check srbench_eval tests benchmarks
	$(BIN)/ruff format --check srbench_eval tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

# Regression checks against the committed baselines: demo always, the benchmarks when ../shared exists.
SHARED_BENCH := ../shared/benchmarks
check: $(STAMP)
	for s in 2 3 4; do $(BIN)/srbench-eval check --baseline results/baselines/bicubic-demo-x$$s.json || exit 1; done
	$(BIN)/srbench-eval check --baseline results/baselines/zoo-demo-x4.json
	if [ -d $(SHARED_BENCH) ]; then \
	  $(BIN)/srbench-eval check --baseline results/baselines/bicubic-benchmarks-x4.json --mirror $(SHARED_BENCH); \
	else echo "skipped benchmark baselines: $(SHARED_BENCH) is absent"; fi
