# Switchyard. `make run` serves the demo on :8080 (SQLite, local demo
# upstream, no keys); `make test` runs the whole suite.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/switchyard
PKGS  := ./...
# nomsgpack leaves gin's MessagePack codec (github.com/ugorji/go) out of
# the binary: the service speaks JSON only (BENCHMARKS.md, "Lean build").
TAGS  := nomsgpack

.PHONY: all build run test test-short lint bench fmt clean

all: build

build:
	$(GO) build -tags $(TAGS) -o $(BIN) ./cmd/switchyard

# The demo: the upstream answers as the shipped dataset's models would, on
# 127.0.0.1:8081; Switchyard routes to it. Ctrl-C stops both.
run: build
	@mkdir -p data
	@./$(BIN) upstream --addr 127.0.0.1:8081 --latency-scale 0.2 & up=$$!; \
	  trap 'kill $$up 2>/dev/null; wait $$up 2>/dev/null' EXIT INT TERM; \
	  ./$(BIN) serve --config config/demo.yaml --addr $${ADDR:-:8080}

# With CI=true nothing may be skipped: the Postgres store tests fail
# instead of skipping when the server is unreachable.
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

test-short:
	$(GO) test -count=1 $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin data
