# cyberstalk — make demo | make test | make lint | make bench
# `setup` installs missing Debian packages (when run as root or with sudo) and builds .venv.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   ?= demo-case
APT_PACKAGES := libmagic1 tesseract-ocr tesseract-ocr-eng tesseract-ocr-cym poppler-utils \
	libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core openssl \
	coreutils shared-mime-info chromium

.PHONY: setup demo test lint bench fixtures clean

$(BIN)/.installed: pyproject.toml
	@bash scripts/install-system-packages.sh $(APT_PACKAGES)
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found"; exit 3; }
	@# Debian's own python3.11 ships venv/ensurepip separately
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || bash scripts/install-system-packages.sh python3-venv
	@# a venv of our own (never pip into the system Python: PEP 668), uv inside it for speed
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@[ -x $(BIN)/uv ] || { $(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --upgrade >/dev/null; \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check uv; }
	@# byte-compile now: every CLI start then skips compiling its imports (a third of
	@# its start-up where PYTHONDONTWRITEBYTECODE is set, as on the CI machines)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	@touch $@

setup: $(BIN)/.installed
	@$(BIN)/python -m compileall -q -j 0 src >/dev/null

fixtures: setup
	$(BIN)/python fixtures/make_fixtures.py

demo: setup
	@bash scripts/demo.sh $(DEMO)

test: setup
	$(BIN)/python -m pytest -n 2 -q

lint: setup
	$(BIN)/ruff check src tests fixtures benchmarks
	$(BIN)/ruff format --check src tests fixtures benchmarks
	$(BIN)/mypy --strict src
	# the benchmarks: every name they use of the toolkit exists (types not required)
	$(BIN)/mypy --ignore-missing-imports --allow-untyped-defs --allow-untyped-calls \
		--disable-error-code var-annotated --disable-error-code misc \
		--disable-error-code unused-ignore benchmarks

bench: setup
	$(BIN)/python benchmarks/run_all.py $(ARGS)

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
