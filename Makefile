# The project's vocabulary: make demo | test | lint | bench | build | deploy
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: demo test lint unit mutation mutation-changed integration cfn-lint checkov sam-build bench build deploy clean chromium screenshot

# Creates the virtualenv and installs the package with pinned (constraints.txt) dependencies.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/iam-inventory demo --out out

test: lint cfn-lint checkov unit mutation-changed chromium integration sam-build

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

unit: $(STAMP)
	$(BIN)/pytest tests/unit

# mutmut over the pure core with the unit tests; one line per module, fails under 95% (docs/testing.md).
mutation: $(STAMP)
	$(BIN)/python tools/mutation.py

# What `make test` runs: only the in-scope modules changed since the merge base with origin/main (on CI's
# clean checkout of main: since HEAD~1). The full run does not reliably fit the 10-minute budget here.
mutation-changed: $(STAMP)
	$(BIN)/python tools/mutation.py --changed

integration: $(STAMP)
	$(BIN)/pytest tests/integration

# The HTML report test renders index.html in headless Chromium (Debian's package). Installed here when
# missing; if that is impossible (no root, no apt) the test skips and says why.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { \
		echo "installing Debian's chromium for the HTML report test"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "WARNING: could not install chromium; the HTML rendering test will be skipped"; \
	}

# docs/report-screenshot.png: the demo's index.html as headless Chromium renders it.
screenshot: $(STAMP) chromium
	rm -rf out/screenshot && $(BIN)/iam-inventory demo --out out/screenshot >/dev/null
	$(CHROMIUM) --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir=$$(mktemp -d) --hide-scrollbars --window-size=1280,1900 \
		--screenshot=docs/report-screenshot.png out/screenshot/index.html

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml $(wildcard spoke/*.yaml)

# checkov pins half of PyPI in versions that clash with the app's, so it gets its own virtualenv.
$(CHECKOV_STAMP): constraints-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -c constraints-checkov.txt checkov
	touch $(CHECKOV_STAMP)

# Zero failed checks allowed; accepted ones are skipped inline in the template, each with its reason.
# --skip-download: no calls to the vendor's platform (offline, and nothing about the template leaves).
checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
		-f template.yaml $(wildcard spoke/*.yaml)

# sam build needs a python3.13 interpreter (the Lambda runtime); it runs only when one works here.
sam-build: $(STAMP)
	@if python3.13 -c 'import sys' >/dev/null 2>&1; then \
		test -x .venv-sam/bin/sam || { $(PYTHON) -m venv .venv-sam && .venv-sam/bin/pip install --quiet aws-sam-cli; }; \
		SAM_CLI_TELEMETRY=0 .venv-sam/bin/sam build --template template.yaml; \
	else \
		echo "SKIPPED sam build: no working python3.13 on PATH (the Lambda runtime); cfn-lint still validated template.yaml"; \
	fi

bench: $(STAMP)
	$(BIN)/python -m bench

build: sam-build

deploy:
	sam build && sam deploy --config-env $${ENV:-default}

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .venv-sam .aws-sam out .pytest_cache .ruff_cache mutants
