# Thin wrappers; the scripts are what the README and CI run.
.PHONY: demo setup test build assets
demo:
	scripts/demo.sh
setup:
	scripts/setup.sh
test:
	scripts/test.sh
build:
	go build -o bin/fedilens ./cmd/fedilens
assets:
	sh dashboard/assets/install.sh
# The census benchmark (35 to 45 minutes on 2 cores); writes the "Census"
# section of BENCHMARKS.md. `go run ./bench/census -quick` is a smoke run.
.PHONY: bench-census
bench-census:
	go run ./bench/census -out BENCHMARKS.md
# The search benchmark (1,000,000 posts: indexing through Bleve alone and
# through the indexer, then search latency); writes the "Search" section
# of BENCHMARKS.md. `go run ./bench/search -quick` is a smoke run.
.PHONY: bench-search
bench-search:
	go run ./bench/search -out BENCHMARKS.md
# The ingest benchmark (3,000 instances at post scale 32: posts per second
# end to end through `fedilens crawl --once`, next to Bleve alone on the
# same posts); writes the "Ingest" section of BENCHMARKS.md.
# `go run ./bench/ingest -quick` is a smoke run.
.PHONY: bench-ingest
bench-ingest:
	go run ./bench/ingest -out BENCHMARKS.md
