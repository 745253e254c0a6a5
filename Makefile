# The project's vocabulary: make demo | test | lint | bench | build | deploy
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: demo test lint mypy unit unit-313 integration smoke cfn-lint checkov sam-build bench build deploy clean \
	chromium screenshot invoke docs mutation mutation-changed

# Creates the virtualenv and installs the package with pinned (constraints.txt) dependencies.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/iam-inventory demo --out out

test: lint cfn-lint checkov sam-build unit mutation-changed chromium integration smoke unit-313

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools scripts
	$(BIN)/ruff format --check src tests bench tools scripts
	$(BIN)/mypy

mypy: $(STAMP)
	$(BIN)/mypy

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

# docs/report-screenshot.png: the demo's page 40 days on (run 5: overdue, suppressed, stale), and
# docs/report-screenshot-300.png: a synthetic run over 300 accounts filtered to its critical findings (the
# page's own script reads the filter from the address), as headless Chromium renders them.
SHOT = $(CHROMIUM) --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--hide-scrollbars --window-size=1400,1800
screenshot: $(STAMP) chromium
	rm -rf out/screenshot && $(BIN)/iam-inventory demo --out out/screenshot >/dev/null
	$(SHOT) --user-data-dir=$$(mktemp -d) --screenshot=docs/report-screenshot.png out/screenshot/aged/index.html
	$(BIN)/python scripts/html_at_scale.py 300 out/screenshot/scale/index.html
	$(SHOT) --user-data-dir=$$(mktemp -d) --window-size=1400,3000 --screenshot=docs/report-screenshot-300.png \
		"file://$(CURDIR)/out/screenshot/scale/index.html#severity=critical"

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

# aws-sam-cli pins half of PyPI too: its own virtualenv, pinned by constraints-sam.txt.
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed
$(SAM_STAMP): constraints-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet -c constraints-sam.txt aws-sam-cli
	touch $(SAM_STAMP)

# The Lambda artifact (.aws-sam/build), built with a python3.13 (the runtime) found on PATH or in pyenv.
# Only SKIP_SAM_BUILD=1 skips it; no python3.13 is an error, not a silent pass.
sam-build:
	@if [ "$${SKIP_SAM_BUILD:-}" = 1 ]; then echo "SKIPPED sam build: SKIP_SAM_BUILD=1 is set"; exit 0; fi; \
	py313=$$(scripts/python313.sh) || exit 1; \
	$(MAKE) --no-print-directory $(SAM_STAMP) && \
	echo "sam build with $$py313" && \
	PATH="$$(dirname "$$py313"):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build --template template.yaml

# The BUILT single-mode handler, under python3.13, against the simulator with events/scheduled.json.
smoke: $(STAMP)
	@if [ "$${SKIP_SAM_BUILD:-}" = 1 ]; then echo "SKIPPED artifact smoke test: SKIP_SAM_BUILD=1 is set"; exit 0; fi; \
	py313=$$(scripts/python313.sh) || exit 1; \
	case "$$(uname -m)" in aarch64|arm64) ;; *) \
		pins=$$(cd .aws-sam/build/DependenciesLayer/python && ls -d pydantic_core-*.dist-info wrapt-*.dist-info \
			| sed -E 's/^(.*)-(.*)\.dist-info$$/\1==\2/'); \
		rm -rf .aws-sam/host-native && \
		"$$py313" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --only-binary=:all: \
			--target .aws-sam/host-native $$pins || exit 1;; \
	esac; \
	$(BIN)/pytest tests/artifact

# The unit tests again under python3.13 (the Lambda runtime), in a throwaway virtualenv.
VENV_313 := .venv-313
unit-313:
	@py313=$$(scripts/python313.sh 2>/dev/null) || { echo "SKIPPED unit tests under python3.13: none found"; exit 0; }; \
	{ test -x $(VENV_313)/bin/python || "$$py313" -m venv $(VENV_313); } && \
	{ test -f $(VENV_313)/.installed -a $(VENV_313)/.installed -nt constraints.txt || { \
		$(VENV_313)/bin/python -m pip install --quiet --upgrade pip && \
		$(VENV_313)/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]' && \
		touch $(VENV_313)/.installed; }; } && \
	$(VENV_313)/bin/python -m pytest -p no:cacheprovider tests/unit

bench: $(STAMP)
	$(BIN)/python -m bench

build: sam-build

# A first deploy asks for every parameter (sam deploy --guided) and saves the answers in samconfig.toml.
deploy: sam-build
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam deploy --config-env $${ENV:-default} $${GUIDED:+--guided}

# Any sample event against the embedded simulator: make invoke EVENT=events/manual.json
EVENT ?= events/scheduled.json
invoke: $(STAMP)
	@$(BIN)/iam-inventory invoke --simulator $(EVENT)

# docs/configuration.md is generated from the settings model, docs/rules.md from the rule registry
# (a test fails when either is stale).
docs: $(STAMP)
	$(BIN)/python scripts/configuration_doc.py > docs/configuration.md
	$(BIN)/python scripts/rules_doc.py > docs/rules.md
	$(BIN)/python scripts/account_scan_schema.py > src/iam_inventory/schemas/account-scan.schema.json
	$(BIN)/python scripts/codecommit_policies.py > src/iam_inventory/collect/aws_managed_codecommit.json
	$(BIN)/python scripts/fanout_sizing.py --write docs/fanout.md

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(SAM_VENV) $(VENV_313) .aws-sam out .pytest_cache .ruff_cache mutants
