#!/usr/bin/env bash
# Runs every test: go vet, then go test -race over all packages, including
# the tests against a real ClickHouse (started by fedilens's managed mode)
# and in headless Chromium. ClickHouse and Chromium must be installed
# (scripts/setup.sh installs them); the echarts assets are installed here
# if missing, since the dashboard embeds them.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -s dashboard/assets/echarts.min.js ]; then
  sh dashboard/assets/install.sh
fi
go vet ./...
go test -race -count=1 -timeout 40m "$@" ./...
