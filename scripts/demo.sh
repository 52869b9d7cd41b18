#!/usr/bin/env bash
# The main job, live: installs what is missing, builds, then shows tawon's decoded events of the
# demo's simulated privileged syscalls as they happen, for DEMO_SECONDS (default 20; 0 runs
# until Ctrl-C). Tracing needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || exec sudo -E "$0" "$@"
scripts/install-deps.sh
swift build
.build/debug/tawonctl task list
echo
functions=chown+mlockall+mlock+kill+socket+setsockopt+bind+setuid+setreuid+chroot+setns+ptrace
run=(.build/debug/tawonctl run -c "process.name:tawon-simulate"
     -t "syscalls|functions:$functions;demo:all;demoInterval:3" --output compact)
seconds=${DEMO_SECONDS:-20}
if [ "$seconds" -eq 0 ]; then "${run[@]}"; else timeout -s INT "$seconds" "${run[@]}" || [ $? -eq 124 ]; fi
