# Developer entry points. `make` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TOOLS_DIR ?= $(CURDIR)/.tools
export FLEX_TOOLS_DIR := $(TOOLS_DIR)
export PATH := $(TOOLS_DIR)/bin:$(PATH)

# Runs a command against a fresh DynamoDB Local + local-kms (see infra/emulator).
WITHSTACK := go run ./infra/cmd/withstack --

.PHONY: help tools test lint dev bench fuzz load clean check-table build invoke deploy build-TokenFunction build-ApiKeysFunction build-OnboardFunction build-SecretScanningFunction

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

tools: ## install Java and Chromium (Debian), DynamoDB Local, local-kms, aws-lambda-rie, staticcheck into $(TOOLS_DIR)
	@TOOLS_DIR='$(TOOLS_DIR)' infra/scripts/install-tools.sh

# The SAM transform check (infra/samtemplate) needs the SAM translator in
# python3: where it is missing, test says so and that check skips.
test: tools lint ## gofmt, vet, staticcheck, cfn-lint, then every test against a local stack
	@python3 -c 'import samtranslator' 2>/dev/null || \
		echo "test: skipping the SAM transform check of template.yaml: aws-sam-translator is not installed (pip install aws-sam-translator)"
	$(WITHSTACK) go test -count=1 -shuffle=on -timeout 8m ./...

# cfn-lint is a Python tool that `make tools` does not install: where it is
# missing, lint says so and goes on.
lint: tools ## gofmt check, go vet, staticcheck, cfn-lint on template.yaml
	@out="$$(git ls-files -z --cached --others --exclude-standard '*.go' | xargs -0 -r gofmt -l)"; \
	if [[ -n "$$out" ]]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	go vet ./...
	staticcheck ./...
	@if command -v cfn-lint >/dev/null; then \
		echo "cfn-lint template.yaml"; cfn-lint template.yaml; \
	else \
		echo "lint: skipping cfn-lint on template.yaml: not installed (pip install cfn-lint)"; \
	fi

dev: tools ## run the local dev server (infra/devserver) in the foreground
	@mkdir -p bin && go build -o bin/devserver ./infra/devserver
	exec bin/devserver

bench: tools ## run the benchmarks against a local stack (route benchmarks also with AWS-like latency)
	$(WITHSTACK) go test -run '^$$' -bench . -benchmem ./...

FUZZTIME ?= 30s
fuzz: ## fuzz every parser of outside input, each target for FUZZTIME (default 30s); fails on a crash
	@FUZZTIME='$(FUZZTIME)' infra/scripts/fuzz.sh

LOAD_DURATION ?= 60s
load: tools ## 64 clients on every route for LOAD_DURATION (default 60s), in-process on fresh emulators; fails on a 5xx or a table violation
	LOAD_DURATION='$(LOAD_DURATION)' go run ./infra/cmd/load

# Read-only (Scan and GetItem): safe on a production table.
check-table: ## check a table's invariants: make check-table TABLE=<name> [ENDPOINT=<url>] [REGION=<region>]
	@[[ -n '$(TABLE)' ]] || { echo "usage: make check-table TABLE=<name> [ENDPOINT=<url>] [REGION=<region>]" >&2; exit 2; }
	go run ./infra/cmd/checktable -table '$(TABLE)' $(if $(ENDPOINT),-endpoint '$(ENDPOINT)') $(if $(REGION),-region '$(REGION)')

clean: ## remove build output and local state
	rm -rf bin/ .aws-sam/ .local/

# --- build / invoke / deploy ---

# SAM logical ids of the Lambda functions, and the package each is built from.
LAMBDA_FUNCTIONS := TokenFunction ApiKeysFunction OnboardFunction SecretScanningFunction
build-TokenFunction: FUNCTION_PKG := ./functions/token
build-ApiKeysFunction: FUNCTION_PKG := ./functions/apikeys
build-OnboardFunction: FUNCTION_PKG := ./functions/onboard
build-SecretScanningFunction: FUNCTION_PKG := ./functions/secretscanning

# `sam build` runs build-<LogicalId> (BuildMethod: makefile) with ARTIFACTS_DIR set.
$(addprefix build-,$(LAMBDA_FUNCTIONS)):
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags "-s -w" -o $(ARTIFACTS_DIR)/bootstrap $(FUNCTION_PKG)

build: ## build every function for Lambda (linux/arm64) into bin/<LogicalId>/bootstrap
	@for fn in $(LAMBDA_FUNCTIONS); do \
		$(MAKE) --no-print-directory build-$$fn ARTIFACTS_DIR='$(CURDIR)/bin/'$$fn; \
	done
	@for fn in $(LAMBDA_FUNCTIONS); do \
		size=$$(wc -c < bin/$$fn/bootstrap); \
		printf '%-22s %9d bytes (%s MiB)  bin/%s/bootstrap\n' $$fn $$size $$(awk "BEGIN{printf \"%.1f\", $$size/1048576}") $$fn; \
	done

invoke: tools ## run a function locally: make invoke FN=<LogicalId> EVENT=events/<file>.json
	go run ./infra/cmd/invoke -fn '$(FN)' -event '$(EVENT)'

STAGE ?= sandbox
deploy: ## sam build + sam deploy of one stage: make deploy STAGE=sandbox|production
	@case '$(STAGE)' in sandbox|production) ;; *) echo "STAGE must be sandbox or production, not '$(STAGE)'" >&2; exit 2;; esac
	@command -v sam >/dev/null || { echo "make deploy needs the AWS SAM CLI (sam) on PATH" >&2; exit 1; }
	sam build --config-env $(STAGE)
	sam deploy --config-env $(STAGE)
