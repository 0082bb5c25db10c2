# Developer entry points. `make` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TOOLS_DIR ?= $(CURDIR)/.tools
export FLEX_TOOLS_DIR := $(TOOLS_DIR)
export PATH := $(TOOLS_DIR)/bin:$(PATH)

# Runs a command against a fresh DynamoDB Local + local-kms (see infra/emulator).
WITHSTACK := go run ./infra/cmd/withstack --

.PHONY: help tools test lint dev bench clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

tools: ## install Java, DynamoDB Local, local-kms, aws-lambda-rie, staticcheck into $(TOOLS_DIR)
	@TOOLS_DIR='$(TOOLS_DIR)' infra/scripts/install-tools.sh

test: tools ## vet, staticcheck, then every test against a local stack
	go vet ./...
	staticcheck ./...
	$(WITHSTACK) go test -count=1 -timeout 8m ./...

lint: ## gofmt check, go vet, staticcheck
	@out="$$(git ls-files -z --cached --others --exclude-standard '*.go' | xargs -0 -r gofmt -l)"; \
	if [[ -n "$$out" ]]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	go vet ./...
	staticcheck ./...

dev: tools ## run the local dev server (infra/devserver) in the foreground
	@mkdir -p bin && go build -o bin/devserver ./infra/devserver
	exec bin/devserver

bench: tools ## run the benchmarks against a local stack
	$(WITHSTACK) go test -run '^$$' -bench . -benchmem ./...

clean: ## remove build output and local state
	rm -rf bin/ .aws-sam/ .local/

# --- build / invoke / deploy (owned by the SAM work) ---
