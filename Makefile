# samskabelse — see README.md. Every target installs what it needs first (uv + uv.lock).
SHELL := /bin/bash
export PIPELINE_RAW_DIR ?= data/raw
export PIPELINE_MARTS_DIR ?= data/marts
# The Dagster instance (run history, partitions, sensor cursor) belongs to the marts folder it describes
# (pipeline/defs/history.py); `make run DAGSTER_HOME=…` overrides it.
export DAGSTER_HOME := $(abspath $(PIPELINE_MARTS_DIR))/.dagster_home
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
PY := .venv/bin/python
PORT ?= 3000

.PHONY: help install run test lint ui sql inspect review remove-wave bench png fuzz browser docs report
.DEFAULT_GOAL := help

help:  ## this list: every target with what it does (plain `make` prints it too)
	@echo "samskabelse – make <target>:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)$$/  \1|\2/' | \
		awk -F'|' '{ printf "%-15s %s\n", $$1, $$2 }'

install: .venv/.installed $(DAGSTER_HOME)/dagster.yaml  ## install the locked dependencies (uv sync --locked) and the Dagster settings

.venv/.installed: pyproject.toml uv.lock
# --compile-bytecode: with PYTHONDONTWRITEBYTECODE set (as on CI) every process would otherwise compile
# dagster & co. from source again (imports 7.4 s of CPU instead of 2.2 s)
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --locked --compile-bytecode --quiet
	@touch $@

$(DAGSTER_HOME)/dagster.yaml: pipeline/defs/dagster.yaml
	@mkdir -p $(DAGSTER_HOME) $(PIPELINE_MARTS_DIR)
	@test -f $(PIPELINE_MARTS_DIR)/.gitignore || printf '# samskabelse build output: never committed\n*\n' > $(PIPELINE_MARTS_DIR)/.gitignore
	@cp pipeline/defs/dagster.yaml $@

run: install  ## install, then build every wave under PIPELINE_RAW_DIR into PIPELINE_MARTS_DIR
	$(PY) -m pipeline.cli build

test: install lint  ## install, lint, then run the tests on every core (the 15 slowest are listed at the end)
# -n auto: one pytest worker per core; --dist loadscope keeps a module's tests on one worker, so a module's built
# fixture is built once
	$(PY) -m pytest -q -n auto --dist loadscope --durations=15

lint: install  ## ruff (lint and format) and sqlfluff (SQL), with the rules in pyproject.toml
	.venv/bin/ruff check pipeline tests bench
	.venv/bin/ruff format --check pipeline tests bench
	.venv/bin/sqlfluff lint sql --disable-progress-bar --nocolor

ui: install  ## the Dagster UI on 127.0.0.1:$(PORT) (dg dev), same instance as `make run`
	$(PY) -m pipeline.defs.serve dev -h 127.0.0.1 -p $(PORT)

sql: install  ## the published marts in the DuckDB CLI (read-only)
	@.venv/bin/duckdb -readonly $(PIPELINE_MARTS_DIR)/samskabelse.duckdb

inspect: install  ## how a wave folder would be read, without building: make inspect WAVE=2024
	@if [ -z "$(WAVE)" ]; then \
		echo "usage: make inspect WAVE=<wave>   (the wave folders under $(PIPELINE_RAW_DIR): $$(ls $(PIPELINE_RAW_DIR) 2>/dev/null | tr '\n' ' '))" >&2; \
		exit 2; \
	fi
	@$(PY) -m pipeline.cli inspect $(WAVE)

review: install  ## list a wave's open answers for review before the public profile shows them: make review WAVE=2024
	@$(PY) -m pipeline.cli review $(WAVE)

remove-wave: install  ## remove a wave's rows from the marts: make remove-wave WAVE=2025
	$(PY) -m pipeline.cli remove-wave $(WAVE)

docs: install  ## docs/marts.md from schemas/marts.yaml (the marts contract)
	$(PY) -m pipeline.contract

bench: install  ## benchmark scenarios (never part of make test); writes bench/results.json
	$(PY) -m bench.run

report: install  ## the report as PDF, Word and Excel from the published marts into $(PIPELINE_MARTS_DIR)/reports/
	$(PY) -m pipeline.reports.document.documents

png: install browser  ## PNG copies of the report tables under $(PIPELINE_MARTS_DIR)/reports/png (after make run)
	$(PY) -m pipeline.reports.png

browser:  ## install Debian chromium if missing (for make png and the browser test; needs root)
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; }

fuzz: install  ## longer fuzzing budget than make test
	FUZZ_EXAMPLES=2000 $(PY) -m pytest -q -m fuzz
