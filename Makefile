# Flashback developer entry points. `make dev` runs the platform, `make test`
# runs the test suite (what CI runs).
GO ?= go
PKGS := ./...

.PHONY: dev build test test-short bench lint fuzz

build:
	$(GO) build -o bin/flashback ./cmd/flashback

dev:
	$(GO) run ./cmd/flashback dev

test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./chain/ ./contract/

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1)
	$(GO) vet $(PKGS)

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./tx/
