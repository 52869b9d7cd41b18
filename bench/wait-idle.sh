#!/usr/bin/env bash
# Waits until process PID has used no CPU for IDLE_MS (default 150) and prints, in ns since the
# epoch, when it last did: the moment a tracer writing to /dev/null had drained its input.
# Gives up after 120 s.
set -euo pipefail
pid=$1
idle_ns=$(( ${IDLE_MS:-150} * 1000000 ))
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
last=$(cpu)
changed=$(date +%s%N)
deadline=$(( changed + 120000000000 ))
while true; do
  sleep 0.01
  now=$(date +%s%N)
  current=$(cpu)
  if [ "$current" != "$last" ]; then
    last=$current
    changed=$now
  elif [ $(( now - changed )) -ge "$idle_ns" ] || [ "$now" -ge "$deadline" ]; then
    break
  fi
done
echo "$changed"
