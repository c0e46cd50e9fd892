# The project's verbs. `make run` and `make test` are the two the README
# promises; both install what they need (local/install/install.sh: make run
# only its part, make test everything) into the git-ignored .tools folder
# the first time and reuse it afterwards.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
PKGS := ./...
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
export SAM_CLI_TELEMETRY := 0
# Lambda binaries: static, stripped, without the RPC shim (STYLE.md 8).
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"

.PHONY: tools tools-run build test unit template-check sam-local lint run token stack fmt fuzz fuzz-api deploy bench
.PHONY: generate generate-check bench-check

tools: ## install every tool make test needs (pinned, reused when present)
	@local/install/install.sh all

tools-run: ## install only what make run needs: Java, DynamoDB Local, LocalStack, SAM CLI (its emulator)
	@local/install/install.sh run

build: ## compile every package and each function's Lambda binary
	$(GO) build $(PKGS)
	CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o bin/ ./functions/...

test: tools template-check bench-check ## vet, the template checks, the benchmark guards, every test against one local stack, sam local
	$(GO) vet $(PKGS)
	$(GO) run ./local/cmd/stack -- $(GO) test -count=1 -p 2 -timeout 20m $(PKGS)
	$(GO) run ./local/cmd/samlocal invoke

# The fast tier: the domain's tests without emulators (go test -short). The
# store and everything on it run on the in-memory DynamoDB (local/memdb, held
# to the store's tests, which make test runs on both); a test that needs
# LocalStack is skipped here and runs in make test. No process is started.
# -vet=off: make lint and make test vet every package; here the vet pass
# go test adds would be a quarter of the time.
unit: ## the domain's tests in seconds, no emulator, no tools needed (go test -short ./shared/...)
	$(GO) test -short -count=1 -vet=off ./shared/...

sam-local: tools ## sam local start-api on a Docker engine (started here if none runs), against the emulators
	$(GO) run ./local/cmd/samlocal -port $(or $(SAM_PORT),3001) start-api

SAM := .tools/sam/bin/sam
SAM_PYTHON := .tools/sam/bin/python
SAM_BUILD_DIR := .aws-sam/build
ARCH ?= arm64
# Every `sam build` (template-check, deploy; local/cmd/samlocal sets the same):
# static, -trimpath, without the RPC shim, stripped (STYLE.md 8). SAM's go1.x
# builder runs `go build` in this environment (and adds -trimpath itself from
# the template's BuildProperties.TrimGoPath); checkbin reads each binary's build
# information and fails a binary built otherwise.
SAM_BUILD_ENV := CGO_ENABLED=0 GOFLAGS="-trimpath -tags=lambda.norpc '-ldflags=-s -w'"
TRANSFORMED := .aws-sam/transformed.json
template-check: tools ## sam validate (lint and plain), cfn-lint (source and SAM-transformed), sam build for $(ARCH) and its binaries checked
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint
	$(SAM) validate --region us-east-1
	.tools/sam/bin/cfn-lint template.yaml
	@mkdir -p $(dir $(TRANSFORMED))
	$(SAM_PYTHON) local/samtemplate/transform.py template.yaml > $(TRANSFORMED)
	.tools/sam/bin/cfn-lint $(TRANSFORMED)
	$(SAM_BUILD_ENV) $(SAM) build --build-dir $(SAM_BUILD_DIR) \
		--parameter-overrides Architecture=$(ARCH) >/dev/null
	$(GO) run ./local/samtemplate/checkbin -arch $(ARCH) -max-mb 12 $(SAM_BUILD_DIR)

lint: generate-check ## gofmt, vet, staticcheck, go.mod tidy, and the templ code current
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	$(GO) mod tidy -diff

# The emails' HTML parts and the opt-out page are templ components (*.templ),
# compiled to Go (*_templ.go, committed: the build needs no templ). One pinned
# generator; generate-check (part of lint) fails when a committed *_templ.go
# differs from what it generates, or has no .templ.
TEMPL := github.com/a-h/templ/cmd/templ@v0.3.1100
generate: ## regenerate the templ components' Go code (*_templ.go)
	$(GO) run $(TEMPL) generate -path .

generate-check: ## fail when a *_templ.go is not what `make generate` writes
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	files() { git ls-files -co --exclude-standard "$$1" | while read -r f; do [ ! -e "$$f" ] || echo "$$f"; done; }; \
	files '*.templ' | xargs -r cp --parents -t "$$tmp"; \
	$(GO) run $(TEMPL) generate -path "$$tmp" >/dev/null 2>&1 || { echo "templ generate failed"; exit 1; }; \
	bad=0; for g in $$( { (cd "$$tmp" && find . -name '*_templ.go' | sed 's|^\./||'); files '*_templ.go'; } | sort -u); do \
		cmp -s "$$tmp/$$g" "$$g" || { echo "$$g is not current: run make generate"; bad=1; }; \
	done; exit $$bad

run: tools-run ## the whole system on 127.0.0.1:3000 (PORT=..., UI_ORIGIN=... for CORS; ARGS="-tenant-lookup ...")
	$(GO) run ./local/cmd/run $(ARGS)

token: ## a local JWT for the sample partner admin (flags: ARGS="-roles= -partner=other")
	@$(GO) run ./local/cmd/token $(ARGS)

stack: tools ## only the emulators, with the template's resources, until Ctrl-C
	$(GO) run ./local/cmd/stack

fmt:
	gofmt -w $$(git ls-files '*.go')

BENCHTIME ?= 1s
BENCH ?= .
bench: tools ## the benchmarks (local/bench) against one local stack; writes docs/benchmarks.md
	BENCH_OUT=$(CURDIR)/docs/benchmarks.md $(GO) run ./local/cmd/stack -- \
		$(GO) test ./local/bench -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -timeout 60m

# The goals make bench measures that a test can guard in seconds, without
# asserting any absolute time: one `go test -run` line per guard.
bench-check: tools-run ## fail when a goal regresses: a binary past 12 MiB (arm64, stripped) or reaching a reflective method lookup; finalize's group size back to 1
	$(GO) test -count=1 ./local/samtemplate/checkbin -run '^TestFunctionBinaries$$'
	@# Finalize: decisions fall back to one per TransactWriteItems (counted on DynamoDB Local).
	$(GO) run ./local/cmd/stack -- $(GO) test -count=1 -run '^TestFinalizeGroupSize$$' ./shared/finalize

FUZZTIME ?= 60s
fuzz: tools ## run each fuzz target for FUZZTIME (their seed corpora also run in make test)
	$(GO) test ./shared/httpapi -run '^$$' -fuzz FuzzDecodeJSON -fuzztime $(FUZZTIME)
	$(GO) test ./shared/claim -run '^$$' -fuzz FuzzValidate -fuzztime $(FUZZTIME)
	$(GO) run ./local/cmd/stack -- $(GO) test ./shared/store -run '^$$' -fuzz FuzzDecodeCursor -fuzztime $(FUZZTIME)
	$(GO) run ./local/cmd/stack -- $(GO) test ./shared/optout -run '^$$' -fuzz FuzzOptOutToken -fuzztime $(FUZZTIME)

FUZZ_SEED ?= 20261202
fuzz-api: tools ## Schemathesis driven by docs/openapi.yaml against a runner of its own (also part of make test); FUZZ_SEED=, ARGS=
	$(GO) run ./local/cmd/fuzzapi -seed $(FUZZ_SEED) $(ARGS)

ENV ?= dev
# DEPLOY_PARAMS="JwtIssuer=... JwtAudience=... UiOrigin=... SenderEmail=... PublicBaseUrl=..."
# comes after $(ENV)'s own parameter_overrides (samconfig.toml): sam would
# replace that list with any --parameter-overrides, so deployparams merges them
# and refuses a deploy missing a required parameter. DEPLOY_ARGS: other flags.
deploy: tools ## sam build + sam deploy --config-env $(ENV) (needs AWS credentials and DEPLOY_PARAMS, see README)
	@case "$(ENV)" in dev|prod) ;; *) echo "ENV must be dev or prod"; exit 2;; esac
	@case " $(DEPLOY_ARGS) " in *" --parameter-overrides"*) echo "give parameters as DEPLOY_PARAMS: --parameter-overrides in DEPLOY_ARGS would replace $(ENV)'s own"; exit 2;; esac
	@$(GO) run ./local/samtemplate/deployparams -env $(ENV) -- $(DEPLOY_PARAMS) >/dev/null
	$(SAM_BUILD_ENV) $(SAM) build --config-env $(ENV)
	params="$$($(GO) run ./local/samtemplate/deployparams -env $(ENV) -- $(DEPLOY_PARAMS))"; \
		$(SAM) deploy --config-env $(ENV) --parameter-overrides "$$params" $(DEPLOY_ARGS)
