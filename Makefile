# raytrec: `make demo` trains CML on MovieLens-100K; `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch is pinned and installed first: a looser requirement resolved on its own pulls a CUDA build.
TORCH_PIN ?= torch==2.13.0

.PHONY: install demo test lint bench wheels clean

PLUGINS := plugins/raytrec-example plugins/raytrec-plugin-template plugins/raytrec-gru4rec

$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(PLUGINS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH_PIN)"
	$(BIN)/pip install --quiet -e ".[dev]" $(addprefix -e ,$(PLUGINS))
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/raytrec train examples/cml_ml100k.yaml --overwrite --run-dir runs/demo

test: $(STAMP)
	$(BIN)/python -m pytest tests plugins/raytrec-plugin-template/tests plugins/raytrec-gru4rec/tests -q

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/pip install --quiet -e ".[benchmark]"
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/ml100k.py
	$(BIN)/python benchmarks/compare_ml100k.py

# Wheels of raytrec and the plugins under plugins/ for a cluster's nodes (cluster.yaml copies them).
wheels: $(STAMP)
	$(BIN)/pip wheel --quiet --no-deps --no-build-isolation -w dist . $(PLUGINS)

clean:
	rm -rf $(VENV) runs .pytest_cache
