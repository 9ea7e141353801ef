# matthan: build, run and test on a fresh Debian 12 machine.
#
#   make run    installs what is missing, builds, starts the demo cameras and the engine
#   make test   installs what is missing, starts the real services the tests need, runs every test

SHELL := /bin/bash
DEPS ?= $(CURDIR)/.deps
KAFKA_PORT ?= 9092
LISTEN ?= 127.0.0.1:8080
DATA ?= $(CURDIR)/var

# Where the fetched libraries, models and footage live (see deploy/deps.sh).
export MATTHAN_DEPS := $(DEPS)
export MATTHAN_ONNXRUNTIME_LIB ?= $(DEPS)/lib/libonnxruntime.so.1
export MATTHAN_CHDB_LIB ?= $(DEPS)/lib/libchdb.so
export MATTHAN_MODELS_DIR ?= $(DEPS)/models
export MATTHAN_VIDEO_DIR ?= $(DEPS)/video
# A mirror of the upstream assets; ../shared/assets when it sits beside the checkout.
export MATTHAN_ASSETS ?= $(wildcard $(CURDIR)/../shared/assets)

GO ?= go
GOFLAGS_BUILD ?= -trimpath

.PHONY: help deps build run test bench accuracy lint kafka-up kafka-down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

deps: ## install what the build, the demo and the tests need (idempotent)
	@deploy/deps.sh

build: deps ## build bin/matthan
	$(GO) build $(GOFLAGS_BUILD) -o bin/matthan ./cmd/matthan

run: build ## start the camera simulator on the demo footage and the engine with embedded defaults
	@DATA="$(DATA)" LISTEN="$(LISTEN)" KAFKA_PORT="$(KAFKA_PORT)" deploy/demo.sh

test: deps ## start the Kafka broker, run every test with -race, stop the broker
	@KAFKA_PORT="$(KAFKA_PORT)" deploy/test.sh

bench: build ## benchmark harness: table + benchmarks/results/results.{txt,json,png} (QUICK=1: seconds)
	@deploy/bench-deps.sh
	bin/matthan bench -v $(if $(QUICK),-quick -out $(DATA)/bench,-out benchmarks/results)

accuracy: build ## count, people and smoke accuracy against benchmarks/groundtruth (benchmarks/results/accuracy.json)
	$(GO) run ./benchmarks/accuracy -bin bin/matthan

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

kafka-up: deps ## start a local Kafka broker (KRaft) on KAFKA_PORT
	@deploy/kafka/kafka.sh up $(KAFKA_PORT)

kafka-down: ## stop the local Kafka broker
	@deploy/kafka/kafka.sh down $(KAFKA_PORT)

clean: ## remove build output (keeps .deps)
	rm -rf bin
