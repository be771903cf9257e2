# Flashback developer entry points. `make dev` runs the platform, `make test`
# runs the test suite (what CI runs).
GO ?= go
PKGS := ./...

.PHONY: dev build test test-short test-servers bench lint fuzz

build:
	$(GO) build -o bin/flashback ./cmd/flashback

dev:
	$(GO) run ./cmd/flashback dev

# Real MinIO, fake-gcs-server and Azurite for the backend conformance suite;
# built once into ~/.cache/flashback (about 16 minutes cold, instant after).
test-servers:
	bash scripts/test-servers.sh install

test: test-servers
	$(GO) vet $(PKGS)
	FLASHBACK_REQUIRE_SERVERS=1 $(GO) test -race -count=1 -timeout 45m $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchtime 10x -timeout 30m ./chain/
	$(GO) test -run '^$$' -bench . -benchtime 300x -timeout 30m ./contract/

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1)
	$(GO) vet $(PKGS)

# Each fuzzer for FUZZTIME; failing inputs land in the package's
# testdata/fuzz, which plain `go test` replays (commit them).
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./tx/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeBody$$' -fuzztime $(FUZZTIME) ./tx/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./address/
	$(GO) test -run '^$$' -fuzz '^FuzzTimeJSON$$' -fuzztime $(FUZZTIME) ./contract/core/
	$(GO) test -run '^$$' -fuzz '^FuzzRecordCodec$$' -fuzztime $(FUZZTIME) ./contract/
	$(GO) test -run '^$$' -fuzz '^FuzzS3Request$$' -fuzztime $(FUZZTIME) ./bridge/
