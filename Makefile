# One Makefile drives everything: install, lint, test, benchmarks, the demo and the compose stack.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PYPROJECTS := shared/pyproject.toml trainer/pyproject.toml reco-service/pyproject.toml shop-service/pyproject.toml

.DEFAULT_GOAL := help
.PHONY: help install lint format test test-fast bench bench-data bench-trainer bench-scale bench-reco bench-shop demo up down train clean

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

bench: bench-data bench-trainer bench-reco bench-shop ## every benchmark

bench-data: $(STAMP) ## generate 10 million events and read them back
	$(PY) bench/bench_data.py

bench-trainer: $(STAMP) ## a full training run on 100k users / 5M events; quality on the real data
	$(PY) trainer/bench/bench_trainer.py

bench-scale: $(STAMP) ## default engine vs Spark local[2] at 100k/200k/400k customers; the 10 M paper table
	$(PY) trainer/bench/bench_scale.py

bench-reco: $(STAMP) ## reco-service latency and throughput under wrk
	$(PY) reco-service/bench/bench_reco.py

bench-shop: $(STAMP) ## the shop's home page under load
	$(PY) shop-service/bench/bench_shop.py

demo: $(STAMP) ## the whole shop on this machine: data, training, Redis, reco-service, shop (DATA=…, RETRAIN=1)
	$(PY) deploy/stack.py $(if $(DATA),--data $(DATA)) $(if $(ITEMS),--items $(ITEMS)) $(if $(RETRAIN),--retrain)

$(ENV_FILE):
	cp deploy/.env.example $@
	@echo "wrote $@ from deploy/.env.example: set its secrets before exposing the stack"

up: $(ENV_FILE) ## the whole stack under Docker Compose
	docker compose --env-file $(ENV_FILE) up --build -d
	@echo "shop: http://localhost:$${SHOP_PORT:-8080}   reco-service docs: http://localhost:$${RECO_PORT:-8000}/docs"

down: ## stop the compose stack (volumes stay)
	docker compose --env-file $(ENV_FILE) down

train: $(ENV_FILE) ## trigger a training run in the compose stack now
	docker compose --env-file $(ENV_FILE) run --rm trainer run

clean: ## remove the virtualenv and caches (data/ stays)
	rm -rf $(VENV) .pytest_cache .ruff_cache
