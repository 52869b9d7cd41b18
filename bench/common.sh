# Shared by the bench scripts: a release build, a scratch directory removed on exit, and the
# getppid loop compiled into it. Source it after `cd` to the repository.
[ -x .build/release/tawonctl ] && [ -z "${REBUILD:-}" ] || swift build -c release >/dev/null
work=$(mktemp -d /tmp/tawon-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/getppid_loop" bench/getppid_loop.c
