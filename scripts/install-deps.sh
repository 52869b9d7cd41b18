#!/usr/bin/env bash
# Installs the Debian packages tawon needs to build and test, if any are missing.
set -euo pipefail

packages=(
  libbpf-dev   # libbpf headers and pkg-config file (the host loads BPF with it)
  libcap-dev   # libcap: capability names and numbers
  bpftool      # tests check that nothing is left in the kernel
  strace       # fidelity tests compare decoded syscalls with strace's
  podman runc      # container tests run a real container
  docker.io        # ...and one of a private dockerd
  busybox-static   # ...from an image of busybox
  gcc          # builds C task plugins (examples/hello-task, test fixtures)
  gcc-multilib # builds the 32-bit test program (-m32)
  curl         # daemon tests talk to the control socket as a user would
  libc6-dev
  pkg-config
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
