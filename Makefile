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
