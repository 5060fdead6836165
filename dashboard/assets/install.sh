#!/bin/sh
# Installs the echarts build pinned in package-lock.json and copies the one
# file the dashboard serves (echarts.min.js) next to this script, where
# go:embed picks it up. The copy is gitignored; run this (or `make assets`)
# before building fedilens. --ignore-scripts: no package code runs here.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts
cp node_modules/echarts/dist/echarts.min.js echarts.min.js
echo "dashboard/assets/echarts.min.js: $(wc -c < echarts.min.js) bytes (echarts $(node -p 'require("./node_modules/echarts/package.json").version' 2>/dev/null || echo '?'))"
