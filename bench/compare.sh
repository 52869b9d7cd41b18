#!/usr/bin/env bash
# The benchmarks, as root: `bench/compare.sh` installs strace, linux-perf and bpftrace from Debian,
# builds, measures tawon beside them on the same machine and workloads, and writes
# docs/performance.md; `bench/compare.sh overhead|throughput|daemon|consumer` measures one thing and
# prints it. `bench/compare.sh --help` lists the subcommands and the environment that adjusts them.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || exec sudo -E "$0" "$@"
# What is measured is the tree as it is: rebuild first (BUILD=0 skips it), except for consumer,
# which compares builds and builds only when there is none.
[ "${1:-all}" = consumer ] || export BUILD=${BUILD:-1}
exec python3 bench/compare.py "$@"
