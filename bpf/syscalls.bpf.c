// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The syscalls program: at sys_enter, report the calls of watched processes to hooked syscalls,
 * with their arguments, captured user memory and the caller's capability sets. Unwatched
 * processes cost one hash lookup. Fork, exec and exit keep the watch list current.
 */
#include "vmlinux_subset.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "syscalls.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Inputs. */

/* tgid -> bitmask of the directives watching the process. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, __u32);
    __type(value, __u64);
} watched_processes SEC(".maps");

/* syscall number (+512 for i386) -> bitmask of the directives hooking it. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2 * SYSCALLS_TABLE_SIZE);
    __type(key, __u32);
    __type(value, __u64);
} hooked_syscalls SEC(".maps");

/* syscall number (+512 for i386) -> which arguments carry user memory to capture. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2 * SYSCALLS_TABLE_SIZE);
    __type(key, __u32);
    __type(value, struct syscalls_capture_plan);
} capture_plans SEC(".maps");

/* tgid -> records it may still send: a process just exec'd (or forked by one) is watched by
 * every directive until the host has decided about it; this bounds what it sends meanwhile. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, __u32);
    __type(value, __u32);
} undecided_processes SEC(".maps");

/* [0]: the mask of all active directives, given to a process that just exec'd until the host
 * has decided about it, so that its first syscalls are not lost. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} active_directives SEC(".maps");

const volatile struct syscalls_config syscalls_config = {};

/* Outputs. */

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 16 * 1024 * 1024); /* the host may resize it before load */
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct syscalls_counters);
} counters SEC(".maps");

/* State: a record is built here, then copied into the ring buffer at its real size. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct syscalls_event);
} scratch SEC(".maps");

static __always_inline struct syscalls_counters *cpu_counters(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&counters, &zero);
}

/*
 * Wake the reader only when this record makes the waiting data cross the threshold: one wake-up
 * per batch, not one per record, even while the reader is behind. It also polls on a timer.
 */
static __always_inline __u64 wakeup_flag(__u64 size)
{
    __u64 waiting = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
    __u64 threshold = syscalls_config.wakeup_bytes;
    return waiting < threshold && waiting + size >= threshold ? BPF_RB_FORCE_WAKEUP
                                                              : BPF_RB_NO_WAKEUP;
}

/* Only losses are counted here (rarely, so atomically); the host counts what it reads. */
static __always_inline void count_lost(void)
{
    struct syscalls_counters *count = cpu_counters();
    if (count)
        __sync_fetch_and_add(&count->ringbuf_full, 1);
}

static __always_inline void submit(void *record, __u64 size, __u64 flags)
{
    if (bpf_ringbuf_output(&events, record, size, flags) < 0)
        count_lost();
}

static __always_inline void read_arguments(struct pt_regs *regs, bool compat, __u64 *args)
{
    if (compat) { /* i386: ebx, ecx, edx, esi, edi, ebp */
        args[0] = (__u32)regs->bx;
        args[1] = (__u32)regs->cx;
        args[2] = (__u32)regs->dx;
        args[3] = (__u32)regs->si;
        args[4] = (__u32)regs->di;
        args[5] = (__u32)regs->bp;
    } else { /* x86_64: rdi, rsi, rdx, r10, r8, r9 */
        args[0] = regs->di;
        args[1] = regs->si;
        args[2] = regs->dx;
        args[3] = regs->r10;
        args[4] = regs->r8;
        args[5] = regs->r9;
    }
}

/* Direct BTF loads (CO-RE relocated): no helper calls on the hot path. */
static __always_inline void read_capabilities(struct task_struct *task,
                                              struct syscalls_event_header *h)
{
    const struct cred *cred = task->cred;
    h->cap_inheritable = cred->cap_inheritable.val;
    h->cap_permitted = cred->cap_permitted.val;
    h->cap_effective = cred->cap_effective.val;
    h->cap_bounding = cred->cap_bset.val;
    h->cap_ambient = cred->cap_ambient.val;
}

static __always_inline void fill_header(struct syscalls_event_header *h, struct task_struct *task,
                                        struct pt_regs *regs, long id, __u64 pid_tgid,
                                        bool compat, __u64 directives)
{
    h->kind = SYSCALLS_RECORD_SYSCALL;
    h->cpu = bpf_get_smp_processor_id();
    h->timestamp_ns = bpf_ktime_get_ns();
    h->directives = directives;
    h->tgid = pid_tgid >> 32;
    h->tid = (__u32)pid_tgid;
    h->syscall_nr = (__u32)id;
    h->compat = compat;
    h->capture_count = 0;
    h->data_length = 0;
    bpf_get_current_comm(h->comm, sizeof(h->comm));
    read_arguments(regs, compat, h->args);
    read_capabilities(task, h);
}

/* Copies one argument's user memory into e->data; returns the bytes used. */
static __always_inline __u32 capture(struct syscalls_event *e, struct syscalls_capture *slot,
                                     __u8 kind, __u64 pointer, __u64 wanted)
{
    __u32 offset = e->h.data_length & (SYSCALLS_CAPTURE_HALF - 1);
    long read = 0;
    __u64 limit = 0;

    slot->offset = offset;
    if (kind == SYSCALLS_CAPTURE_STRING) {
        read = bpf_probe_read_user_str(&e->data[offset], SYSCALLS_PATH_LIMIT, (void *)pointer);
        if (read > 0) {
            slot->truncated = read == SYSCALLS_PATH_LIMIT;
            read -= 1; /* the NUL */
        }
    } else {
        limit = kind == SYSCALLS_CAPTURE_SOCKADDR ? SYSCALLS_SOCKADDR_LIMIT
                                                  : syscalls_config.buffer_limit;
        if (limit > SYSCALLS_BUFFER_LIMIT_MAX)
            limit = SYSCALLS_BUFFER_LIMIT_MAX;
        slot->truncated = wanted > limit;
        read = wanted < limit ? wanted : limit;
        if (read > 0 && bpf_probe_read_user(&e->data[offset], read & SYSCALLS_BUFFER_LIMIT_MAX,
                                            (void *)pointer) < 0)
            read = -1;
    }
    if (read < 0) {
        struct syscalls_counters *count = cpu_counters();
        if (count)
            __sync_fetch_and_add(&count->capture_faults, 1);
        slot->fault = 1;
        read = 0;
    }
    slot->length = read;
    return read;
}

static __always_inline void capture_arguments(struct syscalls_event *e,
                                              struct syscalls_capture_plan *plan)
{
#pragma unroll
    for (int i = 0; i < SYSCALLS_ARGS; i++) {
        __u8 kind = plan->kind[i];
        if (kind == SYSCALLS_CAPTURE_NONE || e->h.capture_count >= SYSCALLS_MAX_CAPTURES ||
            e->h.data_length >= SYSCALLS_CAPTURE_HALF)
            continue;
        struct syscalls_capture *slot = &e->h.captures[e->h.capture_count & (SYSCALLS_MAX_CAPTURES - 1)];
        slot->arg = i;
        slot->kind = kind;
        slot->truncated = 0;
        slot->fault = 0;
        __u64 wanted = e->h.args[plan->length_arg[i] % SYSCALLS_ARGS];
        e->h.data_length += capture(e, slot, kind, e->h.args[i], wanted);
        e->h.capture_count++;
    }
}

static __always_inline bool plan_captures(struct syscalls_capture_plan *plan)
{
    __u64 kinds = 0;
    __builtin_memcpy(&kinds, plan->kind, SYSCALLS_ARGS);
    return kinds != 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(syscalls_sys_enter, struct pt_regs *regs, long id)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 tgid = pid_tgid >> 32;
    if (tgid == syscalls_config.host_tgid)
        return 0;
    __u64 *watching = bpf_map_lookup_elem(&watched_processes, &tgid);
    if (!watching)
        return 0;

    struct task_struct *task = bpf_get_current_task_btf();
    bool compat = (task->thread_info.status & TS_COMPAT) != 0;
    if (id < 0 || id >= SYSCALLS_TABLE_SIZE)
        return 0;
    __u32 key = (__u32)id + (compat ? SYSCALLS_COMPAT_BASE : 0);
    __u64 *hooking = bpf_map_lookup_elem(&hooked_syscalls, &key);
    if (!hooking || !(*watching & *hooking))
        return 0;
    __u32 *budget = bpf_map_lookup_elem(&undecided_processes, &tgid);
    if (budget) {
        if (*budget == 0) {
            struct syscalls_counters *count = cpu_counters();
            if (count)
                __sync_fetch_and_add(&count->held_undecided, 1);
            return 0;
        }
        __sync_fetch_and_sub(budget, 1);
    }
    __u64 directives = *watching & *hooking;
    struct syscalls_capture_plan *plan = bpf_map_lookup_elem(&capture_plans, &key);

    /* Fast path: nothing to capture, so the record is built in place in the ring buffer. */
    if (!plan || !plan_captures(plan)) {
        __u64 size = sizeof(struct syscalls_event_header);
        __u64 flags = wakeup_flag(size); /* before reserving, which counts as waiting data */
        struct syscalls_event_header *h = bpf_ringbuf_reserve(&events, size, 0);
        if (!h) {
            count_lost();
            return 0;
        }
        fill_header(h, task, regs, id, pid_tgid, compat, directives);
        bpf_ringbuf_submit(h, flags);
        return 0;
    }

    __u32 zero = 0;
    struct syscalls_event *e = bpf_map_lookup_elem(&scratch, &zero);
    if (!e)
        return 0;
    fill_header(&e->h, task, regs, id, pid_tgid, compat, directives);
    capture_arguments(e, plan);
    __u64 size = offsetof(struct syscalls_event, data) + e->h.data_length;
    if (size > sizeof(*e))
        size = sizeof(*e);
    submit(e, size, wakeup_flag(size));
    return 0;
}

/* Reserves and fills the common part of a lifecycle record; NULL when there is no room. */
static __always_inline struct syscalls_process_event *begin_process_record(__u32 kind,
                                                                           struct task_struct *task)
{
    struct syscalls_process_event *record = bpf_ringbuf_reserve(&events, sizeof(*record), 0);
    if (!record) {
        count_lost();
        return NULL;
    }
    record->kind = kind;
    record->cpu = bpf_get_smp_processor_id();
    record->timestamp_ns = bpf_ktime_get_ns();
    record->tgid = BPF_CORE_READ(task, tgid);
    record->parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
    BPF_CORE_READ_STR_INTO(&record->comm, task, comm);
    record->start_boottime = BPF_CORE_READ(task, start_boottime);
    record->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
    record->exe_length = 0;
    record->args_length = 0;
    record->exe[0] = 0;
    return record;
}

/* Rare, and the host must decide about the process at once: always wake it. */
static __always_inline void finish_process_record(struct syscalls_process_event *record)
{
    bpf_ringbuf_submit(record, BPF_RB_FORCE_WAKEUP);
}

/* A new process inherits its parent's mask at once, so its first syscalls are seen. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(syscalls_fork, struct task_struct *parent, struct task_struct *child)
{
    __u32 parent_tgid = BPF_CORE_READ(parent, tgid);
    __u32 child_pid = BPF_CORE_READ(child, pid);
    if (child_pid != (__u32)BPF_CORE_READ(child, tgid))
        return 0; /* a thread: covered by its process's entry */
    __u64 *mask = bpf_map_lookup_elem(&watched_processes, &parent_tgid);
    if (!mask)
        return 0;
    bpf_map_update_elem(&watched_processes, &child_pid, mask, BPF_ANY);
    if (bpf_map_lookup_elem(&undecided_processes, &parent_tgid)) {
        __u32 budget = SYSCALLS_UNDECIDED_BUDGET;
        bpf_map_update_elem(&undecided_processes, &child_pid, &budget, BPF_ANY);
    }
    struct syscalls_process_event *record = begin_process_record(SYSCALLS_RECORD_FORK, child);
    if (record)
        finish_process_record(record);
    return 0;
}

/* After exec the process may match other directives: let it through until the host decides. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(syscalls_exec, struct task_struct *task, int old_pid, struct linux_binprm *bprm)
{
    __u32 zero = 0;
    __u64 *active = bpf_map_lookup_elem(&active_directives, &zero);
    if (!active || !*active)
        return 0;
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    if (tgid == syscalls_config.host_tgid)
        return 0;
    bpf_map_update_elem(&watched_processes, &tgid, active, BPF_ANY);
    __u32 budget = SYSCALLS_UNDECIDED_BUDGET;
    bpf_map_update_elem(&undecided_processes, &tgid, &budget, BPF_ANY);
    struct syscalls_process_event *record = begin_process_record(SYSCALLS_RECORD_EXEC, task);
    if (!record)
        return 0;
    long exe = bpf_probe_read_kernel_str(record->exe, sizeof(record->exe), BPF_CORE_READ(bprm, filename));
    record->exe_length = exe > 0 ? exe - 1 : 0;
    /* The new image's arguments are in place by now: read them from user memory. */
    unsigned long start = BPF_CORE_READ(task, mm, arg_start);
    unsigned long end = BPF_CORE_READ(task, mm, arg_end);
    unsigned long length = end > start ? end - start : 0;
    if (length > SYSCALLS_ARGS_LEN)
        length = SYSCALLS_ARGS_LEN;
    if (length > 0 && bpf_probe_read_user(record->args, length, (void *)start) == 0)
        record->args_length = length;
    finish_process_record(record);
    return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(syscalls_exit, struct task_struct *task)
{
    __u32 pid = BPF_CORE_READ(task, pid);
    if (pid != (__u32)BPF_CORE_READ(task, tgid))
        return 0; /* a thread */
    bpf_map_delete_elem(&undecided_processes, &pid);
    if (bpf_map_delete_elem(&watched_processes, &pid) == 0) {
        struct syscalls_process_event *record = begin_process_record(SYSCALLS_RECORD_EXIT, task);
        if (record)
            finish_process_record(record);
    }
    return 0;
}
