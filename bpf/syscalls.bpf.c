// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The syscalls program: reports the calls of watched processes to hooked syscalls, with their
 * arguments, captured user memory and the caller's capability sets. A call is reported once,
 * when it returns (sys_exit), with its result; only a call that has not returned is reported
 * before: when its thread blocks in it (sched_switch) or it is an exec past its point of no
 * return (sched_prepare_exec). Every process pays for one syscall tracepoint and a bit test; a
 * watched one for a hash lookup too.
 * sys_enter is attached only while a directive wants calls at entry. The watch list is kept by
 * bpf/process.bpf.c, whose maps this program shares; it reports exit and exit_group.
 */
#include "vmlinux_subset.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "syscall_records.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Inputs (besides the shared maps). */

/* syscall number (+512 for i386) -> bitmask of the directives hooking it at entry. */
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

/* syscall number (+512 for i386) -> which arguments to read at exit: memory the call wrote,
 * and memory not yet paged in at entry (the kernel has touched it by now). */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2 * SYSCALLS_TABLE_SIZE);
    __type(key, __u32);
    __type(value, struct syscalls_capture_plan);
} exit_plans SEC(".maps");

/* State: a record is built here, then copied into the ring buffer at its real size. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct syscalls_event);
} scratch SEC(".maps");

static __always_inline void submit(void *record, __u64 size, __u64 flags)
{
    if (bpf_ringbuf_output(&events, record, size, flags) < 0)
        count_lost();
}

/* socketcall's calls (SYS_SOCKET = 1 ... SYS_SENDMMSG = 20): the i386 number of the call each
 * carries, and how many arguments it reads from the array. */
#define SOCKETCALL_LAST 20
static const __u16 socketcall_numbers[SOCKETCALL_LAST + 1] = {
    0, 359, 361, 362, 363, SYSCALLS_I386_ACCEPT, 367, 368, 360, SYSCALLS_I386_SEND, SYSCALLS_I386_RECV,
    369, 371, 373, 366, 365, 370, 372, 364, 337, 345,
};
static const __u8 socketcall_arguments[SOCKETCALL_LAST + 1] = {
    0, 3, 3, 3, 2, 3, 3, 3, 4, 4, 4, 6, 6, 2, 5, 5, 3, 3, 4, 5, 4,
};

static __always_inline void set_arguments(__u64 *args, __u64 a0, __u64 a1, __u64 a2, __u64 a3, __u64 a4)
{
    args[0] = a0;
    args[1] = a1;
    args[2] = a2;
    args[3] = a3;
    args[4] = a4;
    args[5] = 0;
}

/*
 * A 32-bit socketcall(call, args) or ipc(call, first, second, third, ptr, fifth) as the call it
 * carries, with that call's own arguments, unpacked as the kernel unpacks them. Returns the
 * number to report: the multiplexer's own when the call inside is not one the kernel knows.
 */
static __always_inline long demultiplexed(long id, __u64 *args)
{
    if (id == SYSCALLS_I386_SOCKETCALL) {
        __u32 call = args[0];
        if (call == 0 || call > SOCKETCALL_LAST)
            return id;
        __u32 values[6] = {};
        __u32 size = socketcall_arguments[call] * sizeof(__u32);
        /* The compiler knows the table's values and would drop the bound the verifier needs. */
        asm volatile("" : "+r"(size));
        if (size > sizeof(values) || bpf_probe_read_user(values, size, (void *)args[1]) < 0)
            return id;
        set_arguments(args, values[0], values[1], values[2], values[3], values[4]);
        args[5] = values[5];
        return socketcall_numbers[call];
    }
    if (id != SYSCALLS_I386_IPC)
        return id;
    __u32 call = args[0] & 0xffff, version = args[0] >> 16;
    __u64 first = args[1], second = args[2], third = args[3], ptr = args[4], fifth = args[5];
    __u32 pointed[2] = {};
    switch (call) {
    case 1: /* SEMOP */
        set_arguments(args, first, ptr, second, 0, 0);
        return SYSCALLS_I386_SEMOP;
    case 2: /* SEMGET */
        set_arguments(args, first, second, third, 0, 0);
        return 393;
    case 3: /* SEMCTL: the union semun is read from ptr */
        if (bpf_probe_read_user(pointed, sizeof(__u32), (void *)ptr) < 0)
            return id;
        set_arguments(args, first, second, third, pointed[0], 0);
        return 394;
    case 4: /* SEMTIMEDOP */
        set_arguments(args, first, ptr, second, fifth, 0);
        return SYSCALLS_I386_SEMTIMEDOP;
    case 11: /* MSGSND */
        set_arguments(args, first, ptr, second, third, 0);
        return 400;
    case 12: /* MSGRCV: version 0 passes { msgp, msgtyp } at ptr */
        if (version == 0) {
            if (bpf_probe_read_user(pointed, sizeof(pointed), (void *)ptr) < 0)
                return id;
            set_arguments(args, first, pointed[0], second, pointed[1], third);
        } else {
            set_arguments(args, first, ptr, second, fifth, third);
        }
        return 401;
    case 13: /* MSGGET */
        set_arguments(args, first, second, 0, 0, 0);
        return 399;
    case 14: /* MSGCTL */
        set_arguments(args, first, second, ptr, 0, 0);
        return 402;
    case 21: /* SHMAT */
        set_arguments(args, first, ptr, second, 0, 0);
        return 397;
    case 22: /* SHMDT */
        set_arguments(args, ptr, 0, 0, 0, 0);
        return 398;
    case 23: /* SHMGET */
        set_arguments(args, first, second, third, 0, 0);
        return 395;
    case 24: /* SHMCTL */
        set_arguments(args, first, second, ptr, 0, 0);
        return 396;
    }
    return id;
}

/* How many bytes a capture of `kind` wants, from the arguments, the return value or the plan. */
static __always_inline __u64 wanted_bytes(struct syscalls_event *e, struct syscalls_capture_plan *plan, int i,
                                          bool compat)
{
    __u8 kind = plan->kind[i];
    __u64 length = e->h.args[plan->length_arg[i] % SYSCALLS_ARGS];
    if (kind == SYSCALLS_CAPTURE_BUFFER_RETURN)
        return e->h.ret > 0 ? (__u64)e->h.ret : 0;
    if (kind == SYSCALLS_CAPTURE_FIXED)
        return plan->fixed_length[i];
    if (kind == SYSCALLS_CAPTURE_SOCKADDR_LENGTH_POINTER) {
        int pointed = 0;
        if (!length || bpf_probe_read_user(&pointed, sizeof(pointed), (void *)length) < 0 || pointed < 0)
            return 0;
        return (__u64)pointed;
    }
    return compat ? (__u32)length : length;
}

/* Copies one argument's user memory into e->data; returns the bytes used. */
static __always_inline __u32 capture(struct syscalls_event *e, struct syscalls_capture *slot,
                                     __u8 kind, __u64 pointer, __u64 wanted)
{
    __u32 offset = e->h.data_length & (SYSCALLS_CAPTURE_HALF - 1);
    long read = 0;
    __u64 limit = 0;

    slot->offset = offset;
    if (!pointer) { /* NULL: nothing to read, and nothing unreadable */
        slot->length = 0;
        return 0;
    }
    if (kind == SYSCALLS_CAPTURE_STRING || kind == SYSCALLS_CAPTURE_STRING_RETURN) {
        read = bpf_probe_read_user_str(&e->data[offset], SYSCALLS_PATH_LIMIT, (void *)pointer);
        if (read > 0) {
            slot->truncated = read == SYSCALLS_PATH_LIMIT;
            read -= 1; /* the NUL */
        }
    } else {
        if (kind == SYSCALLS_CAPTURE_SOCKADDR || kind == SYSCALLS_CAPTURE_SOCKADDR_LENGTH_POINTER)
            limit = SYSCALLS_SOCKADDR_LIMIT;
        else if (kind == SYSCALLS_CAPTURE_FIXED)
            limit = SYSCALLS_BUFFER_LIMIT_MAX; /* a whole struct, whatever the buffer limit */
        else
            limit = tawon_config.buffer_limit;
        if (limit > SYSCALLS_BUFFER_LIMIT_MAX)
            limit = SYSCALLS_BUFFER_LIMIT_MAX;
        slot->truncated = wanted > limit;
        read = wanted < limit ? wanted : limit;
        if (read > 0 && bpf_probe_read_user(&e->data[offset], read & SYSCALLS_BUFFER_LIMIT_MAX,
                                            (void *)pointer) < 0)
            read = -1;
    }
    if (read < 0) {
        struct tawon_counters *count = cpu_counters();
        if (count)
            __sync_fetch_and_add(&count->capture_faults, 1);
        slot->fault = 1;
        read = 0;
    }
    slot->length = read;
    return read;
}

/* What a call writes: read at exit, and only when it succeeded (else it may be garbage). */
static __always_inline bool is_output(__u8 kind)
{
    return kind == SYSCALLS_CAPTURE_BUFFER_RETURN || kind == SYSCALLS_CAPTURE_FIXED ||
           kind == SYSCALLS_CAPTURE_SOCKADDR_LENGTH_POINTER || kind == SYSCALLS_CAPTURE_STRING_RETURN;
}

static __always_inline void capture_arguments(struct syscalls_event *e,
                                              struct syscalls_capture_plan *plan)
{
    bool failed = e->h.ret < 0;
#pragma unroll
    for (int i = 0; i < SYSCALLS_ARGS; i++) {
        __u8 kind = plan->kind[i];
        if (kind == SYSCALLS_CAPTURE_NONE || e->h.capture_count >= SYSCALLS_MAX_CAPTURES ||
            e->h.data_length >= SYSCALLS_CAPTURE_HALF || (failed && is_output(kind)))
            continue;
        if (kind == SYSCALLS_CAPTURE_STRING_FOR_OPTIONS) {
            if (e->h.args[0] - plan->fixed_length[i] >= plan->length_arg[i])
                continue;
            kind = SYSCALLS_CAPTURE_STRING;
        }
        struct syscalls_capture *slot = &e->captures[e->h.capture_count & (SYSCALLS_MAX_CAPTURES - 1)];
        slot->arg = i;
        slot->kind = kind;
        slot->truncated = 0;
        slot->fault = 0;
        __u64 wanted = wanted_bytes(e, plan, i, e->h.compat);
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

/*
 * Sends one record of a hooked call: built in place in the ring buffer when nothing is to be
 * captured (the fast path), else in the per-CPU scratch record and copied at its real size.
 */
static __always_inline void report_call(__u16 kind, struct task_struct *task, const __u64 *args, long id,
                                        __u64 pid_tgid, bool compat, __u64 directives, long ret,
                                        struct syscalls_capture_plan *plan)
{
    if (!plan || !plan_captures(plan)) {
        __u64 size = sizeof(struct syscalls_event_header);
        struct syscalls_event_header *h = bpf_ringbuf_reserve(&events, size, 0);
        if (!h) {
            count_lost();
            return;
        }
        fill_syscall_header(h, kind, task, args, id, pid_tgid, compat, directives, ret);
        bpf_ringbuf_submit(h, wakeup_flag(size));
        return;
    }
    __u32 zero = 0;
    struct syscalls_event *e = bpf_map_lookup_elem(&scratch, &zero);
    if (!e)
        return;
    fill_syscall_header(&e->h, kind, task, args, id, pid_tgid, compat, directives, ret);
    capture_arguments(e, plan);
    __u64 size = offsetof(struct syscalls_event, data) + e->h.data_length;
    if (size > sizeof(*e))
        size = sizeof(*e);
    e->h.header.size = size;
    submit(e, size, wakeup_flag(size));
}

/* The directives that want this call of this process, from `hooks`; 0 when none. A process the
 * host has not decided about yet may send only a bounded number of records. */
static __always_inline __u64 wanted_by(struct tawon_watched_process *watched, void *hooks, __u32 key)
{
    __u64 *hooking = bpf_map_lookup_elem(hooks, &key);
    if (!hooking || !(watched->directives & *hooking))
        return 0;
    if (watched->undecided) {
        if (watched->undecided_budget == 0) {
            struct tawon_counters *count = cpu_counters();
            if (count)
                __sync_fetch_and_add(&count->held_undecided, 1);
            return 0;
        }
        __sync_fetch_and_sub(&watched->undecided_budget, 1);
    }
    return watched->directives & *hooking;
}

static __always_inline bool is_exec(long id, bool compat)
{
    return compat ? id == 11 || id == 358 : id == 59 || id == 322;
}

static __always_inline bool is_execveat(long id, bool compat)
{
    return compat ? id == 358 : id == 322;
}

static __always_inline bool is_fork(long id, bool compat)
{
    return compat ? id == 2 || id == 120 || id == 190 || id == 435
                  : id == 56 || id == 57 || id == 58 || id == 435;
}

/*
 * Reports the current thread's call `id`, its arguments read from `regs`, if a directive watching
 * the process wants it in `hooks`; `plans` says what user memory to read.
 */
static __always_inline void report_from_registers(__u16 kind, struct pt_regs *regs, long id, long ret,
                                                  void *hooks, void *plans)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 tgid = pid_tgid >> 32;
    if (tgid == tawon_config.host_tgid)
        return;
    /* The cheapest tests first: most processes are not watched. */
    if (!may_be_watched(tgid))
        return;
    struct tawon_watched_process *watched = bpf_map_lookup_elem(&watched_processes, &tgid);
    if (!watched)
        return;
    struct task_struct *task = bpf_get_current_task_btf();
    bool compat = is_compat_task(task);
    /* A new image's first instant (its exec was reported at sched_prepare_exec), or a child's
     * first instant, not a call it made (its parent's call returns its pid). Tested here, after
     * the lookup, so that processes nobody watches do not pay for it. */
    if (kind == TAWON_RECORD_SYSCALL_EXIT && ret == 0 && (is_exec(id, compat) || is_fork(id, compat)))
        return;
    __u64 args[SYSCALLS_ARGS];
    read_arguments(regs, compat, args);
    /* An exec that blocks past its point of no return, in the new image (after its exec record):
     * the new program's start cleared the registers, so its file name reads NULL, and the old
     * image reported the call at sched_prepare_exec. */
    if (kind == TAWON_RECORD_SYSCALL_PENDING && is_exec(id, compat) && !args[is_execveat(id, compat) ? 1 : 0])
        return;
    if (compat)
        id = demultiplexed(id, args);
    if (id < 0 || id >= SYSCALLS_TABLE_SIZE)
        return;
    __u32 key = (__u32)id + (compat ? SYSCALLS_COMPAT_BASE : 0);
    __u64 directives = wanted_by(watched, hooks, key);
    if (!directives)
        return;
    report_call(kind, task, args, id, pid_tgid, compat, directives, ret, bpf_map_lookup_elem(plans, &key));
}

/* Attached only while some directive wants calls at entry (a task's hooked functions). */
SEC("tp_btf/sys_enter")
int BPF_PROG(syscalls_sys_enter, struct pt_regs *regs, long id)
{
    report_from_registers(TAWON_RECORD_SYSCALL_ENTER, regs, id, 0, &hooked_syscalls, &capture_plans);
    return 0;
}

/* Every call with its result. The argument registers still hold the call's arguments, orig_ax
 * its number, and the kernel has paged in the memory it read. */
SEC("tp_btf/sys_exit")
int BPF_PROG(syscalls_sys_exit, struct pt_regs *regs, long ret)
{
    report_from_registers(TAWON_RECORD_SYSCALL_EXIT, regs, regs->orig_ax, ret, &exit_hooked_syscalls, &exit_plans);
    return 0;
}

/* A thread blocks (not preempted): if inside a call, that call is reported now, so that nothing
 * waits for it to return; its return follows. */
SEC("tp_btf/sched_switch")
int BPF_PROG(syscalls_blocked, bool preempt, struct task_struct *prev, struct task_struct *next,
             unsigned int prev_state)
{
    if (preempt || prev_state == 0) /* TASK_RUNNING: preempted or yielding, not waiting */
        return 0;
    struct task_struct *task = bpf_get_current_task_btf();
    if (!task->mm) /* a kernel thread */
        return 0;
    struct pt_regs *regs = user_registers(task);
    if (!in_syscall(regs))
        return 0;
    report_from_registers(TAWON_RECORD_SYSCALL_PENDING, regs, regs->orig_ax, 0, &exit_hooked_syscalls,
                          &capture_plans);
    return 0;
}

/* An exec past its point of no return, its old image still in place: its arguments are read now,
 * as its return comes in the new image, where they no longer exist. */
SEC("tp_btf/sched_prepare_exec")
int BPF_PROG(syscalls_exec, struct task_struct *task, struct linux_binprm *bprm)
{
    struct task_struct *current = bpf_get_current_task_btf();
    struct pt_regs *regs = user_registers(current);
    if (!in_syscall(regs) || !is_exec(regs->orig_ax, is_compat_task(current)))
        return 0;
    report_from_registers(TAWON_RECORD_SYSCALL_PENDING, regs, regs->orig_ax, 0, &exit_hooked_syscalls,
                          &capture_plans);
    return 0;
}
