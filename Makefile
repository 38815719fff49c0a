# The two commands a newcomer needs: `make serve` and `make test`.
.PHONY: deps build test lint serve

deps:
	@scripts/install-deps.sh

build: deps
	cargo build --release

# Every test: unit, integration, the original's reference cases (when ../shared exists).
test: deps
	cargo test --workspace

lint: deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# The service on its embedded defaults: ./var (SQLite + cache), graphs/, ui/files/.
serve: build
	./target/release/imgflo serve
