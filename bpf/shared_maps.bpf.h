/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The maps every tawon program shares. bpf/process.bpf.c creates them; the host hands their
 * file descriptors to every other program before it loads (bpf_map__reuse_fd), so there is one
 * ring buffer, one process mask and one set of counters however many event sources run.
 * Included by BPF programs only.
 */
#ifndef TAWON_SHARED_MAPS_BPF_H
#define TAWON_SHARED_MAPS_BPF_H

#include "records.h"

/* tgid -> the directives watching the process. A process just exec'd (or forked by one) is
 * watched by every directive until the host has decided about it, and may send only its
 * undecided budget meanwhile. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, __u32);
    __type(value, struct tawon_watched_process);
} watched_processes SEC(".maps");

/*
 * The watch list's pre-filter: bit (tgid % 64) of word tgid / 64 is set while watched_processes
 * may hold tgid, so a process nobody watches pays for an array access, not a hash lookup. The
 * host sizes it from pid_max and maps it (BPF_F_MMAPABLE) to change bits itself; a tgid beyond
 * it is always looked up. A bit is set after its entry is added, and cleared before the entry's
 * absence is checked (unmark_watched): a clear bit never hides an entry.
 */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 512); /* the host resizes it before load */
    __type(key, __u32);
    __type(value, __u64);
} watched_pids SEC(".maps");

static __always_inline __u64 *watched_pid_word(__u32 tgid)
{
    __u32 index = tgid / 64;
    return bpf_map_lookup_elem(&watched_pids, &index);
}

/* Whether watched_processes may hold tgid: false only when it surely does not. */
static __always_inline bool may_be_watched(__u32 tgid)
{
    __u64 *word = watched_pid_word(tgid);
    return !word || (*word & (1ULL << (tgid % 64)));
}

/* After an entry for tgid was added. */
static __always_inline void mark_watched(__u32 tgid)
{
    __u64 *word = watched_pid_word(tgid);
    if (word)
        __sync_fetch_and_or(word, 1ULL << (tgid % 64));
}

/* After tgid's entry was deleted: the bit goes, and comes back if an entry was added since. */
static __always_inline void unmark_watched(__u32 tgid)
{
    __u64 *word = watched_pid_word(tgid);
    if (!word)
        return;
    __sync_fetch_and_and(word, ~(1ULL << (tgid % 64)));
    if (bpf_map_lookup_elem(&watched_processes, &tgid))
        __sync_fetch_and_or(word, 1ULL << (tgid % 64));
}

/* A process not yet decided about, watched by `directives`. */
static __always_inline struct tawon_watched_process undecided_process(__u64 directives)
{
    struct tawon_watched_process watched = {.directives = directives,
                                            .undecided = 1,
                                            .undecided_budget = TAWON_UNDECIDED_BUDGET,
                                            .changed_ns = bpf_ktime_get_boot_ns()};
    return watched;
}

/* [0]: the mask of all active directives, given to a process that just exec'd until the host
 * has decided about it, so that its first events are not lost. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} active_directives SEC(".maps");

/* syscall number (+512 for i386) -> bitmask of the directives that want the call reported when
 * it returns (or, for calls that never do, when it ends the thread: bpf/process.bpf.c). */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1024);
    __type(key, __u32);
    __type(value, __u64);
} exit_hooked_syscalls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 16 * 1024 * 1024); /* the host may resize it before load */
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct tawon_counters);
} counters SEC(".maps");

const volatile struct tawon_config tawon_config = {};

static __always_inline struct tawon_counters *cpu_counters(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&counters, &zero);
}

/* Only losses are counted here (rarely, so atomically); the host counts what it reads. */
static __always_inline void count_lost(void)
{
    struct tawon_counters *count = cpu_counters();
    if (count)
        __sync_fetch_and_add(&count->ringbuf_full, 1);
}

/* Per CPU: the bytes of records this CPU submitted since it last woke the reader. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} unannounced_bytes SEC(".maps");

/*
 * Wake the reader once per `wakeup_bytes` a CPU submits: one wake-up per batch, not one per
 * record, and no read of the ring's shared positions (a helper call and a cache line the reader
 * writes). The reader also polls on a timer, and does not wait while records are waiting.
 */
static __always_inline __u64 wakeup_flag(__u64 size)
{
    __u32 zero = 0;
    __u64 *unannounced = bpf_map_lookup_elem(&unannounced_bytes, &zero);
    if (!unannounced)
        return BPF_RB_FORCE_WAKEUP;
    *unannounced += size;
    if (*unannounced < tawon_config.wakeup_bytes)
        return BPF_RB_NO_WAKEUP;
    *unannounced = 0;
    return BPF_RB_FORCE_WAKEUP;
}

static __always_inline void fill_record_header(struct tawon_record_header *h, __u16 kind, __u32 size,
                                               __u32 tgid, __u32 tid, __u64 directives)
{
    h->kind = kind;
    h->header_size = sizeof(*h);
    h->size = size;
    h->timestamp_ns = bpf_ktime_get_boot_ns();
    h->cpu = bpf_get_smp_processor_id();
    h->tgid = tgid;
    h->tid = tid;
    h->reserved = 0;
    h->directives = directives;
}

#endif /* TAWON_SHARED_MAPS_BPF_H */
