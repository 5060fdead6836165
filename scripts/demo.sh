#!/usr/bin/env bash
# The offline demo: set up what is missing, then run fedilens's main job
# (crawl, index, serve the dashboard) against a simulated fediverse of
# 2,000 instances on loopback. Extra arguments go to `fedilens run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec bin/fedilens run --sim "${FEDILENS_SIM_INSTANCES:-2000}" --data ./data/demo "$@"
