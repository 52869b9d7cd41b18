#!/usr/bin/env bash
# One command: installs strace, linux-perf and bpftrace from Debian, builds, measures tawon beside
# them on the same machine and workloads, and writes docs/performance.md. As root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || exec sudo -E "$0" "$@"
exec python3 bench/compare.py
