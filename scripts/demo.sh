#!/usr/bin/env bash
# The main job: install what is missing, build, and show the task plugins tawon loads.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build
.build/debug/tawonctl task list
