# Every target sets itself up: .venv is (re)built when missing or older than pyproject.toml.
PY      := .venv/bin/python
VENV    := .venv/.installed
PORT    ?= 8888
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOTOPT := $(if $(filter 0,$(shell id -u)),--allow-root,)
# `make present LANG=en`: the deck's language (the environment's LANG, say en_US.UTF-8, is
# not a deck language, so it never picks one by accident). The talk is given in Spanish.
DECK    := $(or $(filter es en,$(LANG)),es)
# `make lab LANG=es`: the course notebooks in Spanish (notebooks/es); English otherwise.
COURSE  := notebooks$(if $(filter es,$(LANG)),/es,)

.PHONY: lab demo test lint typecheck pytest bench slides present figures chromium clean

$(VENV): pyproject.toml
	python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(VENV)

lab: $(VENV)
	.venv/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
		--ServerApp.root_dir=$(COURSE) $(ROOTOPT)

demo: $(VENV)
	.venv/bin/durasim demo

test: $(VENV) chromium lint typecheck pytest

lint: $(VENV)
	.venv/bin/ruff check durasim tests benchmarks
	.venv/bin/lint-imports --no-cache

typecheck: $(VENV)
	.venv/bin/mypy

# One worker per core (CI has two): the slow groups are split into many tests so they share.
pytest: $(VENV)
	HYPOTHESIS_PROFILE=ci .venv/bin/python -m pytest tests -p no:cacheprovider -n auto --dist worksteal --durations=25

# Browser tests use Debian's chromium (never a downloaded browser); install it when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; browser tests will be skipped with the reason"; }

bench: $(VENV)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; MPLBACKEND=Agg $(PY) $$b || exit 1; done

slides: $(VENV)
	$(PY) -m durasim.slides build

# The deck live in JupyterLab with RISE (the demo slide runs CrashLab): 127.0.0.1, token on.
present: $(VENV)
	$(PY) -m durasim.slides present --lang $(DECK) --port $(PORT)

figures: $(VENV)
	.venv/bin/durasim figures --out figures

clean:
	rm -rf .venv slides/build figures durasim-demo
