#!/usr/bin/env bash
# Runs every test: unit tests, plugin-loading tests, and kernel tests (BPF, real processes).
# Kernel tests need root; without it they are skipped with the reason, unless
# TAWON_REQUIRE_BPF=1, which turns such a skip into a failure (CI sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
swift test "$@"
