# Threadline: `make run` serves it with the sample on http://localhost:8080; `make test` runs every test.

GO      ?= go
BIN     := bin/threadline
ADDR    ?= :8080
DEMO_ADDR ?= :8081
DB      ?= threadline.db
AUDIT   := tools/graphql-http-audit
AXE     := tools/axe
WSCLIENT := tools/graphql-ws-client
FUZZTIME ?= 20s
# The throwaway PostgreSQL cluster that `make test` starts when PostgreSQL is installed (see .ci/postgres). Not
# PGPORT: given on make's command line it would be exported, and libpq's clients would take it as their default.
PGCLUSTER := .ci/postgres
TEST_PGDIR   ?= /tmp/threadline-test-pg
TEST_PGPORT  ?= 55432

.PHONY: run build install deps needs wasm test lint generate bench loadtest loadtest-cluster fanout fanout-cross importbench widgetperf fuzz clean

## run: build and serve on $(ADDR) with $(DB), loading the sample article on first start
run: build
	./$(BIN) serve --addr $(ADDR) --db $(DB) --demo-addr $(DEMO_ADDR)

WASM := widget/assets/web/app.wasm

## build: compile the widget to WebAssembly (embedded in the server), then the server to bin/threadline
build: wasm
	@echo "==> compiling the server to $(BIN) (the first time takes a few minutes on a small machine; later builds seconds)"
	$(GO) build -trimpath -o $(BIN) ./cmd/threadline

## install: build, then copy bin/threadline to $(PREFIX)/bin (default /usr/local/bin), so that `threadline` is on PATH
PREFIX ?= /usr/local
install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/threadline
	@echo "==> installed $(DESTDIR)$(PREFIX)/bin/threadline"

## wasm: compile the widget to WebAssembly and precompress it (brotli, gzip)
wasm:
	@echo "==> compiling the widget to WebAssembly (the first time downloads modules and takes a few minutes on a small machine)"
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -o $(WASM) ./cmd/widget
	$(GO) run ./tools/precompress $(WASM)

## deps: install what the tests need beyond Go and Node.js, on Debian or Ubuntu (Chromium, curl, the test tools' npm packages)
deps:
	.ci/deps

## test: lint, then every Go test (including the GraphQL-over-HTTP audit against a real server), on SQLite; then, when
## PostgreSQL is installed, the API suites again on PostgreSQL
test: needs lint wasm $(AUDIT)/node_modules $(AXE)/node_modules $(WSCLIENT)/node_modules
	@if [ -n "$$THREADLINE_TEST_POSTGRES" ]; then \
		$(call test_both,at $$THREADLINE_TEST_POSTGRES); \
	elif $(PGCLUSTER) start $(TEST_PGDIR) $(TEST_PGPORT) >$(TEST_PGDIR).env 2>$(TEST_PGDIR).err; then \
		. $(TEST_PGDIR).env; status=0; ( $(call test_both,in a throwaway cluster on port $(TEST_PGPORT)) ) || status=$$?; \
		$(PGCLUSTER) stop $(TEST_PGDIR); rm -f $(TEST_PGDIR).env $(TEST_PGDIR).err; exit $$status; \
	else \
		echo "==> PostgreSQL tests skipped: $$(head -1 $(TEST_PGDIR).err) (or set THREADLINE_TEST_POSTGRES=postgres://USER@HOST:PORT/postgres)"; \
		rm -f $(TEST_PGDIR).env $(TEST_PGDIR).err; $(GO) test -count=1 ./...; \
	fi
	cd third_party/go-app && $(GO) test -count=1 -run 'TestEncodeAttribute' ./pkg/app   # our patch of go-app, its own module

# The API suites, which run a second time on PostgreSQL (THREADLINE_TEST_STORE=postgres: see internal/teststore).
# The widget's browser tests stay on SQLite: they test the widget, not the store, and take a browser each.
API_PKGS := ./server/ ./graph/ ./importer/ ./seed/
# test_both runs every test with SQLite and the PostgreSQL store's own tests, then the API suites on PostgreSQL
# (its argument says where PostgreSQL is); both passes run, and it fails if either failed.
test_both = status=0; t=$$(date +%s); \
	echo "==> pass 1 of 2: go test ./... (the API on SQLite; the PostgreSQL store's own tests $(1))"; \
	THREADLINE_TEST_STORE=sqlite $(GO) test -count=1 ./... || status=$$?; \
	echo "    pass 1 took $$(( $$(date +%s) - t ))s"; t=$$(date +%s); \
	echo "==> pass 2 of 2: the API suites on PostgreSQL $(1): THREADLINE_TEST_STORE=postgres go test $(API_PKGS)"; \
	THREADLINE_TEST_STORE=postgres $(GO) test -count=1 $(API_PKGS) || status=$$?; \
	echo "    pass 2 took $$(( $$(date +%s) - t ))s"; \
	exit $$status

# needs stops early, with what to do, when a program the tests run is missing.
needs:
	@missing=""; \
	for p in /usr/bin/chromium curl node npm; do command -v $$p >/dev/null 2>&1 || missing="$$missing $$(basename $$p)"; done; \
	if [ -n "$$missing" ]; then \
		echo "make test needs:$$missing. On Debian or Ubuntu, \`make deps\` installs them (as root or with sudo)."; exit 1; \
	fi

$(AUDIT)/node_modules: $(AUDIT)/package-lock.json
	npm ci --prefix $(AUDIT) --no-audit --no-fund --loglevel=error
	@touch $@

$(AXE)/node_modules: $(AXE)/package-lock.json
	npm ci --prefix $(AXE) --no-audit --no-fund --loglevel=error

$(WSCLIENT)/node_modules: $(WSCLIENT)/package-lock.json
	npm ci --prefix $(WSCLIENT) --no-audit --no-fund --loglevel=error
	@touch $@

## lint: gofmt, go vet and staticcheck must all be clean
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

## generate: regenerate gqlgen's code from schema.graphqls
generate:
	$(GO) tool gqlgen generate

## bench: Go benchmarks of the full GraphQL handler and the store (medians: pipe into benchstat)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./server/ ./markdown/

## loadtest: the release binary on a generated 1,000-comment thread under hey at concurrency 32 (COMMENTS=1000000 for the big one)
COMMENTS ?= 1000
loadtest: build
	@command -v hey >/dev/null || { echo "loadtest needs hey: apt-get install hey"; exit 1; }
	$(GO) run ./tools/loadtest -bin $(BIN) -comments $(COMMENTS)

## fanout: N live subscribers of one article (1,000 and 10,000), one new comment: time until the last has it
fanout: build
	$(GO) run ./tools/fanout -bin $(BIN)

# The PostgreSQL server the cluster benchmarks create their databases on: PG=postgres://USER@HOST:PORT/postgres?sslmode=disable,
# or, when empty, a throwaway cluster started on $(BENCH_PGPORT) for the run and stopped after (.ci/postgres; durability on).
PG      ?=
BENCH_PGDIR  ?= /tmp/threadline-bench-pg
BENCH_PGPORT ?= 55433
# with_postgres runs its argument, a shell command that reads $$PG, with PG set as above.
with_postgres = if [ -n "$(PG)" ]; then PG='$(PG)'; $(1); else \
	$(PGCLUSTER) start $(BENCH_PGDIR) $(BENCH_PGPORT) >$(BENCH_PGDIR).env || exit 1; \
	PG=$$(sed -n "s/^export THREADLINE_TEST_POSTGRES='\(.*\)'$$/\1/p" $(BENCH_PGDIR).env); status=0; $(1) || status=$$?; \
	$(PGCLUSTER) stop $(BENCH_PGDIR); rm -f $(BENCH_PGDIR).env; exit $$status; fi

LOADTEST_CLUSTER = -db "sqlite,$$PG" -servers 1,2
# More flags for tools/loadtest, e.g. LOADTEST_ARGS='-scenarios post -concurrency 128'.
LOADTEST_ARGS ?=
## loadtest-cluster: the load test on SQLite and PostgreSQL side by side, with one server and with two behind HAProxy (deploy/haproxy.cfg)
loadtest-cluster: build
	@command -v hey >/dev/null || { echo "loadtest-cluster needs hey: apt-get install hey"; exit 1; }
	@command -v haproxy >/dev/null || { echo "loadtest-cluster needs haproxy: apt-get install haproxy"; exit 1; }
	@$(call with_postgres,$(GO) run ./tools/loadtest -bin $(BIN) -comments $(COMMENTS) $(LOADTEST_CLUSTER) $(LOADTEST_ARGS))

## fanout-cross: 1,000 live subscribers on one server, comments posted on another of the same PostgreSQL database: time until each has it
fanout-cross: build
	@$(call with_postgres,$(GO) run ./tools/fanout -bin $(BIN) -cross -db "$$PG")

## importbench: threadline import of generated Disqus exports of 10,000 and 1,000,000 comments
importbench: build
	$(GO) run ./tools/importbench -bin $(BIN)

## widgetperf: the thread page in headless Chromium, cold and warm: time to the first comment and to interactive
widgetperf: build
	$(GO) run ./tools/widgetperf -bin $(BIN)

## fuzz: run each fuzz target for $(FUZZTIME): thread text, Markdown, cursors, global IDs, sign-in tokens, imports, GraphQL requests, WebSocket messages, links, names and bodies
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./threadtext
	$(GO) test -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME) ./markdown
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeCursor$$' -fuzztime $(FUZZTIME) ./thread
	$(GO) test -run '^$$' -fuzz '^FuzzParseGlobalID$$' -fuzztime $(FUZZTIME) ./graph
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeLogCursor$$' -fuzztime $(FUZZTIME) ./graph
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEventCursor$$' -fuzztime $(FUZZTIME) ./graph
	$(GO) test -run '^$$' -fuzz '^FuzzVerifySSO$$' -fuzztime $(FUZZTIME) ./thread
	$(GO) test -run '^$$' -fuzz '^FuzzDisqus$$' -fuzztime $(FUZZTIME) ./importer
	$(GO) test -run '^$$' -fuzz '^FuzzWXR$$' -fuzztime $(FUZZTIME) ./importer
	$(GO) test -run '^$$' -fuzz '^FuzzThreadline$$' -fuzztime $(FUZZTIME) ./importer
	$(GO) test -run '^$$' -fuzz '^FuzzGraphQLRequest$$' -fuzztime $(FUZZTIME) ./server
	$(GO) test -run '^$$' -fuzz '^FuzzWebsocketMessages$$' -fuzztime $(FUZZTIME) ./graph
	$(GO) test -run '^$$' -fuzz '^FuzzAllowed$$' -fuzztime $(FUZZTIME) ./linkurl
	$(GO) test -run '^$$' -fuzz '^FuzzValidateDisplayName$$' -fuzztime $(FUZZTIME) ./thread
	$(GO) test -run '^$$' -fuzz '^FuzzPrepareBody$$' -fuzztime $(FUZZTIME) ./thread

clean:
	rm -rf bin $(WASM) $(WASM).br $(WASM).gz
