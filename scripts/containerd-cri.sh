#!/usr/bin/env bash
# Runs a private containerd (Debian's 1.6, with its CRI plugin) for tests, without a kubelet,
# a registry or CNI: pods use the host's network.
#
#   scripts/containerd-cri.sh start DIR   install containerd if missing, write DIR/config.toml,
#                                         start containerd on DIR/containerd.sock (pid in
#                                         DIR/containerd.pid, log in DIR/containerd.log) and make
#                                         sure the two images below are in its k8s.io namespace.
#   scripts/containerd-cri.sh stop DIR    remove every pod and container, stop containerd, clean
#                                         runc state, shim sockets, mounts and cgroups it left.
#
# Images, built locally (no registry):
#   localhost/tawon-pause:1     sandbox image: a static C program that sleeps until SIGTERM/SIGINT
#   localhost/tawon-busybox:2   workload image: static busybox with sh, sleep, echo, cat, ping
# DIR keeps containerd's root (with the images) across stop/start; `rm -rf DIR` after stop is safe.
# One line per step on stdout; on failure one line "containerd-cri: error: ..." on stderr, exit 1.
set -Eeuo pipefail

PAUSE_IMAGE="localhost/tawon-pause:1"
BUSYBOX_IMAGE="localhost/tawon-busybox:2"
RUNC=""

say() { echo "containerd-cri: $*"; }
die() { echo "containerd-cri: error: $*" >&2; exit 1; }

usage() { die "usage: $0 start|stop DIR"; }
# Anything else that fails under set -e still ends with one line.
trap 'die "line $LINENO: $BASH_COMMAND failed"' ERR

# run WHAT CMD...: runs CMD with its output in DIR/steps.log; on failure dies with its last line.
run() {
  local what="$1"; shift
  if ! "$@" >"$DIR/steps.log" 2>&1; then
    die "$what failed: $(grep -v '^[[:space:]]*$' "$DIR/steps.log" | tail -n 1)"
  fi
}

ctr_() { ctr -a "$SOCK" -n k8s.io "$@"; }

containerd_pid() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "containerd --config $DIR/config.toml" || return 1
  echo "$pid"
}

answers() { ctr -a "$SOCK" --timeout 2s version >/dev/null 2>&1; }

install_packages() {
  local missing=()
  command -v containerd >/dev/null && command -v containerd-shim-runc-v2 >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  command -v gcc >/dev/null || missing+=(gcc)
  [ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -n "$(find /usr/lib -name libc.a -print -quit 2>/dev/null)" ] \
    || missing+=(libc6-dev)
  if ! [ -x /bin/busybox ] || LC_ALL=C ldd /bin/busybox >/dev/null 2>&1; then missing+=(busybox-static); fi
  if [ ${#missing[@]} -eq 0 ]; then
    say "packages present: containerd $(containerd --version | awk '{print $3}'), runc, gcc, busybox-static"
    return
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  run "apt-get update" $sudo apt-get update -qq
  run "apt-get install ${missing[*]}" env DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
  say "installed: ${missing[*]}"
  if LC_ALL=C ldd /bin/busybox >/dev/null 2>&1; then die "/bin/busybox is not static"; fi
}

write_config() {
  RUNC=$(command -v runc) || die "runc not found"
  mkdir -p "$DIR/root" "$DIR/state" "$DIR/opt" 2>/dev/null || die "cannot create root, state and opt folders in $DIR"
  cat >"$DIR/config.toml" <<EOF
# Written by scripts/containerd-cri.sh: a private containerd for tests.
version = 2
root = "$DIR/root"
state = "$DIR/state"

[grpc]
  address = "$SOCK"

[plugins."io.containerd.internal.v1.opt"]
  path = "$DIR/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$RUNC"
        Root = "$DIR/runc"
EOF
  say "config written: $DIR/config.toml (socket $SOCK, runc $RUNC)"
}

start_containerd() {
  local pid
  if pid=$(containerd_pid) && answers; then
    say "containerd already running (pid $pid)"
    return
  fi
  if [ -S "$SOCK" ] && answers; then die "another containerd answers on $SOCK"; fi
  rm -f "$SOCK"
  setsid containerd --config "$DIR/config.toml" >>"$DIR/containerd.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PIDFILE"
  local i
  for i in $(seq 1 100); do
    answers && { say "containerd started (pid $pid, log $DIR/containerd.log)"; return; }
    if ! kill -0 "$pid" 2>/dev/null; then
      die "containerd exited: $( { grep -E 'level=(fatal|error)' "$DIR/containerd.log" || tail -n 1 "$DIR/containerd.log"; } | tail -n 1)"
    fi
    sleep 0.2
  done
  die "containerd did not answer on $SOCK within 20 s (see $DIR/containerd.log)"
}

# The list is read whole first: grep -q would stop early and, under pipefail, fail the pipe.
have_image() { local names; names=$(ctr_ images ls -q 2>/dev/null) || return 1; grep -qx "$1" <<<"$names"; }

# make_archive NAME ROOTFS CONFIG_JSON_BODY OUT: a docker-archive tarball of one layer.
make_archive() {
  local name="$1" rootfs="$2" config="$3" out="$4"
  local work; work=$(mktemp -d "$DIR/image.XXXXXX")
  tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$rootfs" -cf "$work/layer.tar" .
  local diff; diff=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
  mkdir "$work/$diff"
  mv "$work/layer.tar" "$work/$diff/layer.tar"
  printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$config" "$diff" >"$work/config.json"
  local cfg; cfg=$(sha256sum "$work/config.json" | cut -d' ' -f1)
  mv "$work/config.json" "$work/$cfg.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfg" "$name" "$diff" \
    >"$work/manifest.json"
  tar --numeric-owner --owner=0 --group=0 -C "$work" -cf "$out" manifest.json "$cfg.json" "$diff"
  rm -rf "$work"
}

build_pause() {
  local b="$DIR/build/pause"
  rm -rf "$b"; mkdir -p "$b/rootfs"
  cat >"$b/pause.c" <<'EOF'
/* A pause-like sandbox process: sleeps until SIGTERM or SIGINT, reaps children. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
static void quit(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, 0, WNOHANG) > 0) {} }
int main(void) {
  struct sigaction a = {0};
  a.sa_handler = quit;
  sigaction(SIGTERM, &a, 0);
  sigaction(SIGINT, &a, 0);
  a.sa_handler = reap;
  a.sa_flags = SA_NOCLDSTOP;
  sigaction(SIGCHLD, &a, 0);
  for (;;) pause();
}
EOF
  run "gcc -static pause.c" gcc -static -O2 -s -o "$b/rootfs/pause" "$b/pause.c"
  make_archive "$PAUSE_IMAGE" "$b/rootfs" '{"Entrypoint":["/pause"],"Env":["PATH=/"]}' "$b/image.tar"
  run "ctr images import $PAUSE_IMAGE" ctr_ images import "$b/image.tar"
  rm -rf "$b"
  have_image "$PAUSE_IMAGE" || die "$PAUSE_IMAGE not in containerd after import"
  say "image imported: $PAUSE_IMAGE"
}

build_busybox() {
  local b="$DIR/build/busybox"
  rm -rf "$b"; mkdir -p "$b/rootfs/bin" "$b/rootfs/etc" "$b/rootfs/tmp" "$b/rootfs/proc" "$b/rootfs/sys" "$b/rootfs/dev"
  chmod 1777 "$b/rootfs/tmp"
  cp /bin/busybox "$b/rootfs/bin/busybox"
  local app
  for app in sh sleep echo cat ping; do ln -s busybox "$b/rootfs/bin/$app"; done
  make_archive "$BUSYBOX_IMAGE" "$b/rootfs" '{"Cmd":["sh"],"Env":["PATH=/bin"]}' "$b/image.tar"
  run "ctr images import $BUSYBOX_IMAGE" ctr_ images import "$b/image.tar"
  rm -rf "$b"
  have_image "$BUSYBOX_IMAGE" || die "$BUSYBOX_IMAGE not in containerd after import"
  say "image imported: $BUSYBOX_IMAGE"
}

ensure_images() {
  if have_image "$PAUSE_IMAGE"; then say "image present: $PAUSE_IMAGE"; else build_pause; fi
  if have_image "$BUSYBOX_IMAGE"; then say "image present: $BUSYBOX_IMAGE"; else build_busybox; fi
  rm -rf "$DIR/build"
}

# Removes every task and container in k8s.io (pods and their containers) through containerd.
remove_containers() {
  local ids id n=0 i
  ids=$(ctr_ containers ls -q 2>/dev/null) || return 0
  for id in $ids; do
    ctr_ tasks kill -a -s SIGKILL "$id" >/dev/null 2>&1 || true
  done
  for id in $ids; do
    for i in $(seq 1 50); do
      ctr_ tasks ls 2>/dev/null | awk -v id="$id" '$1 == id && $3 != "STOPPED" {found=1} END {exit !found}' || break
      sleep 0.1
    done
    ctr_ tasks rm -f "$id" >/dev/null 2>&1 || true
    ctr_ containers rm "$id" >/dev/null 2>&1 || true
    n=$((n + 1))
  done
  say "removed $n containers and pod sandboxes"
}

stop_containerd() {
  local pid i
  if ! pid=$(containerd_pid); then say "containerd not running"; return; fi
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
  say "containerd stopped (pid $pid)"
}

# What containerd may leave when it died uncleanly: shims, runc containers, mounts, cgroups, sockets.
# Containers and shims that outlived their containerd (it was killed, or crashed).
kill_orphans() {
  local pids pid id n=0
  # Containers still known to runc first...
  if [ -d "$DIR/runc/k8s.io" ] && [ -n "$RUNC" ]; then
    for id in $("$RUNC" --root "$DIR/runc/k8s.io" list -q 2>/dev/null); do
      "$RUNC" --root "$DIR/runc/k8s.io" kill -a "$id" KILL >/dev/null 2>&1 || true
      "$RUNC" --root "$DIR/runc/k8s.io" delete -f "$id" >/dev/null 2>&1 || true
      n=$((n + 1))
    done
  fi
  [ "$n" -gt 0 ] && { say "deleted $n orphaned runc containers"; sleep 0.2; }
  # ...then their shims, which reap them (no zombies left to init). Shims started by this
  # containerd carry its address on their command line.
  pids=$(for p in /proc/[0-9]*; do
           tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "containerd-shim.* -address $SOCK " && echo "${p#/proc/}"
         done || true)
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
  [ -n "$pids" ] && say "killed orphaned shims: $(echo $pids)"
  return 0
}

# What is left on the machine once containerd is stopped: runc state, mounts, cgroups, sockets.
clean_leftovers() {
  kill_orphans
  rm -rf "$DIR/runc"
  # Mounts under DIR (rootfs overlays, sandbox /dev/shm), deepest first.
  local mounts m
  mounts=$(awk -v d="$DIR/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
  for m in $mounts; do umount -l "$m" 2>/dev/null || true; done
  [ -n "$mounts" ] && say "unmounted $(echo "$mounts" | wc -l) mounts under $DIR"
  # Pod cgroups: runc removes each container's own, and leaves the parents empty: /k8s.io (no
  # cgroup_parent given) or /kubepods/... (the pod's cgroup_parent, kubelet-style).
  local n=0 d
  for d in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d \( -name kubepods -o -name k8s.io \) 2>/dev/null); do
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    [ -d "$d" ] || n=$((n + 1))
  done
  [ "$n" -gt 0 ] && say "removed $n empty pod cgroup trees (kubepods, k8s.io)"
  # Shim sockets go under /run/containerd/s whatever the config says: drop those nobody listens on.
  if [ -d /run/containerd/s ]; then
    local s listening
    listening=$(awk 'NR > 1 && $8 != "" {print $8}' /proc/net/unix)
    for s in /run/containerd/s/*; do
      [ -S "$s" ] || continue
      grep -qxF "$s" <<<"$listening" || rm -f "$s"
    done
    rmdir /run/containerd/s 2>/dev/null || true
  fi
  rmdir /run/containerd/runc/k8s.io /run/containerd/runc /run/containerd 2>/dev/null || true
  rm -rf "$DIR/state" "$DIR/build" "$DIR/image."*
  rm -f "$SOCK" "$SOCK.ttrpc" "$PIDFILE" "$DIR/steps.log"
  # CRI's per-pod and per-container folders in root are state that containerd no longer knows.
  rm -rf "$DIR/root/io.containerd.grpc.v1.cri/sandboxes" "$DIR/root/io.containerd.grpc.v1.cri/containers"
  say "cleaned: no containerd, shim, runc container or mount of $DIR left"
}

[ $# -eq 2 ] || usage
[ "$(id -u)" -eq 0 ] || die "needs root (containerd, runc, mounts, cgroups)"
if [ "$1" = stop ] && ! [ -d "$2" ]; then say "nothing to stop: no $2"; exit 0; fi
mkdir -p "$2" || die "cannot create $2"
DIR=$(cd "$2" && pwd -P)
SOCK="$DIR/containerd.sock"
PIDFILE="$DIR/containerd.pid"
[ ${#SOCK} -lt 100 ] || die "socket path too long for a Unix socket: $SOCK"

case "$1" in
  start)
    install_packages
    write_config
    start_containerd
    ensure_images
    say "ready: socket $SOCK, sandbox image $PAUSE_IMAGE, test image $BUSYBOX_IMAGE"
    ;;
  stop)
    RUNC=$(command -v runc || true)
    if ! { containerd_pid >/dev/null && answers; } && [ -f "$DIR/config.toml" ] \
       && [ -d "$DIR/root/io.containerd.metadata.v1.bolt" ] && command -v containerd >/dev/null; then
      # It died: its metadata still records pods and containers, which a later start would bring
      # back (names stay reserved). Start it once more to remove them.
      say "containerd not running: starting it to remove the pods it still records"
      kill_orphans
      start_containerd
    fi
    if containerd_pid >/dev/null && answers; then remove_containers; fi
    stop_containerd
    clean_leftovers
    ;;
  *) usage ;;
esac
