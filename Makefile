# One Makefile drives everything: install, lint, test, benchmarks, the demo and the compose stack.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PYPROJECTS := shared/pyproject.toml trainer/pyproject.toml reco-service/pyproject.toml shop-service/pyproject.toml sim/pyproject.toml

.DEFAULT_GOAL := help
.PHONY: help install lock lint format test test-fast mutation bench bench-data bench-trainer bench-scale bench-reco replay-reco bench-shop demo simulate up down train clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements-dev.txt $(PYPROJECTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(STAMP) ## create .venv and install every package (editable) with the dev tools

DOCKERFILES := trainer/Dockerfile trainer/Dockerfile.spark reco-service/Dockerfile shop-service/Dockerfile
ENV_FILE ?= deploy/.env
# The compose command: `make up COMPOSE=docker-compose` (v1) or any wrapper with its arguments.
COMPOSE ?= docker compose

lock: $(STAMP) ## re-resolve each image's dependencies into <package>/requirements.lock
	$(PY) deploy/lock.py

lint: $(STAMP) ## ruff, hadolint on every Dockerfile, the compose file against the compose spec
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint $(DOCKERFILES)
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

format: $(STAMP) ## ruff: fix what can be fixed and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint ## the whole suite, from a fresh clone
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: $(STAMP) ## the suite without the slow end-to-end and browser tests
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

mutation: $(STAMP) ## mutmut on the money, auth, selection and publish modules (mutation/mutate.py); not in `make test`
	$(PY) mutation/mutate.py

bench: bench-data bench-trainer bench-reco bench-shop ## every benchmark

bench-data: $(STAMP) ## generate 10 million events and read them back
	$(PY) bench/bench_data.py

bench-trainer: $(STAMP) ## a full training run on 100k users / 5M events; quality on the real data
	$(PY) trainer/bench/bench_trainer.py

bench-scale: $(STAMP) ## default engine vs Spark local[2] at 100k/200k/400k customers; the 10 M paper table
	$(PY) trainer/bench/bench_scale.py

bench-reco: $(STAMP) ## reco-service latency and throughput under wrk, 1 and 2 workers (ROUNDS=n: best of n)
	$(PY) reco-service/bench/bench_reco.py --rounds $(or $(ROUNDS),1)

replay-reco: $(STAMP) ## session re-ranking replayed on ../shared/datasets: next-event hit and NDCG@10 with and without
	$(PY) reco-service/bench/replay.py

bench-shop: $(STAMP) ## the home page under load, exposure log on vs off in alternating rounds (ROUNDS=n, DB=url)
	$(PY) shop-service/bench/bench_shop.py $(if $(ROUNDS),--rounds $(ROUNDS)) $(if $(DB),--database-url $(DB))

demo: $(STAMP) ## the whole shop on this machine: data, training, Redis, reco-service, shop (DATA=…, RETRAIN=1)
	$(PY) deploy/stack.py $(if $(DATA),--data $(DATA)) $(if $(ITEMS),--items $(ITEMS)) $(if $(RETRAIN),--retrain)

simulate: $(STAMP) ## an A/B test on the demo's data: personal vs popular, simulated shoppers (VISITORS=…, AA=1)
	$(PY) deploy/simulate.py $(if $(VISITORS),--visitors $(VISITORS)) $(if $(AA),--aa)

$(ENV_FILE):
	python3 deploy/new_env.py deploy/.env.example $@

up: $(ENV_FILE) ## the whole stack under Docker Compose (COMPOSE=…; SHOP_PORT/RECO_PORT override the file's)
	$(COMPOSE) --env-file $(ENV_FILE) up --build -d
	@echo "shop: http://$$($(COMPOSE) --env-file $(ENV_FILE) port shop-service 8080)"
	@echo "reco-service docs: http://$$($(COMPOSE) --env-file $(ENV_FILE) port reco-service 8000)/docs"
	@echo "secrets in $(ENV_FILE); the first model is published a few minutes after start"

down: ## stop the compose stack (volumes stay)
	$(COMPOSE) --env-file $(ENV_FILE) down

train: $(ENV_FILE) ## trigger a training run in the compose stack now
	$(COMPOSE) --env-file $(ENV_FILE) run --rm trainer run

clean: ## remove the virtualenv and caches (data/ stays)
	rm -rf $(VENV) .pytest_cache .ruff_cache
