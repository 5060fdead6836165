#!/usr/bin/env bash
# Installs what fedilens needs and is missing on a Debian machine with Go:
# ClickHouse (Debian's clickhouse-server), Chromium (dashboard browser tests),
# Node.js/npm (to fetch the pinned echarts build once), the echarts assets,
# and builds bin/fedilens. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
command -v clickhouse-server >/dev/null 2>&1 || command -v clickhouse >/dev/null 2>&1 || missing+=(clickhouse-server clickhouse-client)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} (apt-get)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -s dashboard/assets/echarts.min.js ]; then
  echo "setup: installing the echarts assets (npm ci)"
  sh dashboard/assets/install.sh
fi

command -v go >/dev/null 2>&1 || { echo "setup: Go is not installed (https://go.dev/doc/install)" >&2; exit 1; }
echo "setup: building bin/fedilens"
go build -trimpath -ldflags "-X main.Version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)" -o bin/fedilens ./cmd/fedilens
echo "setup: done"
