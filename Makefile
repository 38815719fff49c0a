# The two commands a newcomer needs: `make serve` and `make test`.
.PHONY: deps build test lint serve

deps:
	@scripts/install-deps.sh

build: deps
	cargo build --release

# Every test: unit and integration (the original's reference cases run when
# ../shared exists; the fbp-spec suites in-process), the FBP protocol conformance
# suite (fbp-test) and fbp-client scenario, the fbp-spec suites with the npm
# fbp-spec CLI and over the protocol, and the browser tests of the debug page.
test: deps
	cargo test --workspace
	bash tests/fbp-protocol/run.sh
	bash fbp-spec/run.sh
	bash tests/ui/run.sh

lint: deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# The service on its embedded defaults: ./var (SQLite + cache), graphs/, ui/files/.
serve: build
	./target/release/imgflo serve
