# make run    the service with embedded PostgreSQL and Kafka (or DATABASE_URL / KAFKA_BROKERS)
# make test   every test, against a throwaway PostgreSQL unless DATABASE_URL or PGHOST is set,
#             and in-process Kafka (kfake) unless KAFKA_BROKERS is set
# make fuzz   each Go fuzz target in ./api for FUZZTIME (default 10s); a find lands in api/testdata/fuzz
# make lint   gofmt, go vet, golangci-lint (.golangci.yml: DESIGN's dependency direction, depguard)
# make bench  benchmarks on a durable (fsync=on) throwaway PostgreSQL
# make soak   10 minutes at 1,000 registrations/s; writes bench/results/soak-latest.{md,json}
# make kafka / kafka-stop   a real single-node Apache Kafka on 127.0.0.1:19092 (no Docker)
# make up / down            PostgreSQL and Kafka in Docker (docker-compose.yml)

SHELL := /bin/bash
GO ?= go
PKGS ?= ./...
TEST_FLAGS ?= -race -count=1 -timeout 20m
BENCH ?= .
BENCH_PKGS ?= ./eventstore/...
WITH_PG := deploy/postgres/with-postgres.sh
# pinned; `go run` builds it once into the build cache (with the Go that builds the project)
GOLANGCI_LINT ?= $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0

.PHONY: run test fuzz lint bench soak kafka kafka-stop kafka-status up down

run:
	$(GO) run ./cmd/participation serve

test:
	@bash deploy/test-prereqs.sh "$(TEST_FLAGS)"
	bash $(WITH_PG) $(GO) test $(TEST_FLAGS) $(PKGS)

# one `go test -fuzz` per target (go test fuzzes one at a time): deploy/fuzz/gofuzz.sh
FUZZTIME ?= 10s
FUZZ_PKG ?= ./api
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) FUZZ_PKG=$(FUZZ_PKG) bash deploy/fuzz/gofuzz.sh

lint:
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './.data/*' -not -path './.git/*')); \
	if [[ -n $$unformatted ]]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GOLANGCI_LINT) run $(PKGS)

# bench/README.md: what is measured; BENCH_FLAGS passes flags to bench/cmd/benchrun
# (e.g. BENCH_FLAGS='-sections 1,2 -reps 5'). Writes bench/results/latest.{md,json}.
bench:
	$(GO) build -o bench/.work/participation ./cmd/participation
	$(GO) build -o bench/.work/benchrun ./bench/cmd/benchrun
	PG_DURABLE=1 bash $(WITH_PG) bench/.work/benchrun -participation bench/.work/participation -out bench/results $(BENCH_FLAGS)

# SOAK_FLAGS passes flags to benchrun, e.g. SOAK_FLAGS='-soak 2m -soak-rate 500'.
soak:
	$(GO) build -o bench/.work/participation ./cmd/participation
	$(GO) build -o bench/.work/benchrun ./bench/cmd/benchrun
	PG_DURABLE=1 bash $(WITH_PG) bench/.work/benchrun -participation bench/.work/participation -out bench/results -soak 10m $(SOAK_FLAGS)

kafka:
	bash deploy/kafka/kafka.sh start
	@echo "export KAFKA_BROKERS=127.0.0.1:$${KAFKA_PORT:-19092}"

kafka-stop:
	bash deploy/kafka/kafka.sh stop

kafka-status:
	bash deploy/kafka/kafka.sh status

up:
	docker compose up -d --wait

down:
	docker compose down
