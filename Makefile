# Flashback developer entry points. `make dev` runs the platform, `make test`
# runs the test suite (what CI runs).
GO ?= go
PKGS := ./...

.PHONY: dev build install test test-short test-servers bench bench-1m lint fuzz

# Cold, the first build downloads about 170 modules and compiles about 1,400
# packages (CometBFT, the cloud SDKs): 142 s on an idle 2-core machine with
# empty caches (2026-12-06), up to 10 minutes on a loaded one; progress.sh prints a line
# every 25 packages so it is never silent. Later builds take seconds.
build:
	@echo "==> building bin/flashback (first time 2 to 10 minutes on 2 cores, then seconds)"
	@bash scripts/progress.sh build $(GO) build -v -o bin/flashback ./cmd/flashback

# Puts flashback on your PATH (in $(go env GOPATH)/bin, or GOBIN), so the
# commands `flashback dev` prints work as written.
install:
	@echo "==> go install ./cmd/flashback into $$($(GO) env GOBIN | grep . || echo $$($(GO) env GOPATH)/bin) (first time 2 to 10 minutes on 2 cores, then seconds)"
	@bash scripts/progress.sh install $(GO) install -v ./cmd/flashback
	@echo "installed; if \`flashback version\` is not found, add that directory to PATH"

# The same as `go run ./cmd/flashback dev`, with progress while compiling.
dev: build
	@echo "==> starting the dev platform (a few seconds)"
	bin/flashback dev

# Real MinIO, fake-gcs-server and Azurite for the backend conformance suite;
# built once into ~/.cache/flashback (about 16 minutes cold, instant after).
test-servers:
	@echo "==> test servers: MinIO, fake-gcs-server, Azurite, chromium (first time 7 to 16 minutes, then instant)"
	bash scripts/test-servers.sh install

test: test-servers
	@echo "==> compiling every package with the race detector (first time about 10 minutes on 2 cores, then seconds)"
	@bash scripts/progress.sh compile $(GO) build -race -v $(PKGS)
	@echo "==> go vet"
	$(GO) vet $(PKGS)
	@echo "==> go test -race ./... (9 to 12 minutes warm, 15 to 25 cold; a line per package as each finishes, e2e last at about 7 minutes of its own)"
	FLASHBACK_REQUIRE_SERVERS=1 $(GO) test -race -count=1 -timeout 45m $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

# The speed targets, each a ratio against a baseline of the same run (see
# README, Development). About 3 minutes; the on-disk 1,000,000-reservation
# block benchmark is `make bench-1m`.
BENCH := $(GO) test -run '^$$' -timeout 30m
bench:
	$(BENCH) -bench 'BenchmarkSignedSends' -benchtime 10x -count 3 ./chain/
	$(BENCH) -bench 'BenchmarkStateBytesPerReservation' -benchtime 1x ./contract/
	$(BENCH) -bench 'BenchmarkEndBlockReservations' -benchtime 300x ./contract/
	$(BENCH) -bench 'BenchmarkChainViewPerBlock' -benchtime 20x ./bridge/chainview/

# Per-block cost with 1,000,000 vs 10 reservations on the node's IAVL store.
# Building the large store takes minutes; it is kept in BENCH_DIR, so later
# runs reopen it (delete the directory to rebuild).
BENCH_DIR ?= $(HOME)/.cache/flashback/bench
bench-1m:
	mkdir -p $(BENCH_DIR)
	FLASHBACK_BENCH_DIR=$(BENCH_DIR) $(BENCH) -bench 'BenchmarkBlockReservationsOnDisk' -benchtime 200x ./chain/

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
	$(GO) test -run '^$$' -fuzz '^FuzzHumanize$$' -fuzztime $(FUZZTIME) ./cmd/flashback/
	$(GO) test -run '^$$' -fuzz '^FuzzNormalizeID$$' -fuzztime $(FUZZTIME) ./cmd/flashback/
	$(GO) test -run '^$$' -fuzz '^FuzzProfileConfig$$' -fuzztime $(FUZZTIME) ./cmd/flashback/
