# Shared by the bench scripts: a release build, a scratch directory removed on exit, and the
# getppid loop compiled into it, with the empty sys_enter program and its loader (the floor of
# any sys_enter tracer). Source it after `cd` to the repository.
[ -x .build/release/tawonctl ] && [ -z "${REBUILD:-}" ] || swift build -c release >/dev/null
work=$(mktemp -d /tmp/tawon-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/getppid_loop" bench/getppid_loop.c
# The clang of Swift's toolchain builds BPF, as for tawon's own programs.
"$(dirname "$(readlink -f "$(command -v swift)")")/clang" -O2 -g -target bpf \
  -c bench/empty_sys_enter.bpf.c -o "$work/empty_sys_enter.bpf.o"
cc -O2 -o "$work/bpf_attach" bench/bpf_attach.c -lbpf
