// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The process program: follows fork, exec and exit, keeps the watch list current, and tells the
 * host about each, so every event source (bpf/syscalls.bpf.c...) sees a process from its first
 * instruction to its end. It owns the maps all programs share (bpf/shared_maps.bpf.h). It also
 * reports the calls that end a thread (exit, exit_group), which never return to sys_exit: here
 * they come before the process's exit.
 */
#include "vmlinux_subset.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "shared_maps.bpf.h"
#include "syscall_records.bpf.h"
#include "process.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Reserves and fills the common part of a lifecycle record; NULL when there is no room. */
static __always_inline struct process_event *begin_process_record(__u16 kind, struct task_struct *task,
                                                                  __u64 directives)
{
    struct process_event *record = bpf_ringbuf_reserve(&events, sizeof(*record), 0);
    if (!record) {
        count_lost();
        return NULL;
    }
    __u32 tgid = BPF_CORE_READ(task, tgid);
    fill_record_header(&record->header, kind, sizeof(*record), tgid, BPF_CORE_READ(task, pid), directives);
    record->parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
    record->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
    record->start_boottime = BPF_CORE_READ(task, start_boottime);
    read_capabilities(task, record);
    record->exit_code = 0;
    record->exe_length = 0;
    record->args_length = 0;
    BPF_CORE_READ_STR_INTO(&record->comm, task, comm);
    record->exe[0] = 0;
    record->cgroup[0] = 0;
    const char *cgroup = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, name);
    if (cgroup)
        bpf_probe_read_kernel_str(record->cgroup, sizeof(record->cgroup), cgroup);
    return record;
}

/* Rare, and the host must decide about the process at once: always wake it. */
static __always_inline void finish_process_record(struct process_event *record)
{
    bpf_ringbuf_submit(record, BPF_RB_FORCE_WAKEUP);
}

/* A new process inherits its parent's mask at once, so its first events are seen. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(process_fork, struct task_struct *parent, struct task_struct *child)
{
    __u32 parent_tgid = BPF_CORE_READ(parent, tgid);
    __u32 child_pid = BPF_CORE_READ(child, pid);
    if (child_pid != (__u32)BPF_CORE_READ(child, tgid))
        return 0; /* a thread: covered by its process's entry */
    if (!may_be_watched(parent_tgid))
        return 0;
    struct tawon_watched_process *parent_watched = bpf_map_lookup_elem(&watched_processes, &parent_tgid);
    if (!parent_watched)
        return 0;
    __u64 inherited = parent_watched->directives;
    struct tawon_watched_process watched = {.directives = inherited, .changed_ns = bpf_ktime_get_boot_ns()};
    if (parent_watched->undecided)
        watched = undecided_process(inherited);
    bpf_map_update_elem(&watched_processes, &child_pid, &watched, BPF_ANY);
    mark_watched(child_pid);
    struct process_event *record = begin_process_record(TAWON_RECORD_PROCESS_FORK, child, inherited);
    if (record)
        finish_process_record(record);
    return 0;
}

/* After exec the process may match other directives: let it through until the host decides. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(process_exec, struct task_struct *task, int old_pid, struct linux_binprm *bprm)
{
    __u32 zero = 0;
    __u64 *active = bpf_map_lookup_elem(&active_directives, &zero);
    if (!active || !*active)
        return 0;
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    if (tgid == tawon_config.host_tgid)
        return 0;
    __u64 directives = *active;
    struct tawon_watched_process watched = undecided_process(directives);
    bpf_map_update_elem(&watched_processes, &tgid, &watched, BPF_ANY);
    mark_watched(tgid);
    struct process_event *record = begin_process_record(TAWON_RECORD_PROCESS_EXEC, task, directives);
    if (!record)
        return 0;
    long exe = bpf_probe_read_kernel_str(record->exe, sizeof(record->exe), BPF_CORE_READ(bprm, filename));
    record->exe_length = exe > 0 ? exe - 1 : 0;
    /* The new image's arguments are in place by now: read them from user memory. */
    unsigned long start = BPF_CORE_READ(task, mm, arg_start);
    unsigned long end = BPF_CORE_READ(task, mm, arg_end);
    unsigned long length = end > start ? end - start : 0;
    if (length > PROCESS_ARGS_LEN)
        length = PROCESS_ARGS_LEN;
    if (length > 0 && bpf_probe_read_user(record->args, length, (void *)start) == 0)
        record->args_length = length;
    finish_process_record(record);
    return 0;
}

/* A new name may match other directives, as after exec: let it through until the host decides.
 * Only the main thread's name is the process's name (ps shows it); other threads' are ignored. */
SEC("tp_btf/task_rename")
int BPF_PROG(process_rename, struct task_struct *task, const char *comm)
{
    __u32 zero = 0;
    __u64 *active = bpf_map_lookup_elem(&active_directives, &zero);
    if (!active || !*active)
        return 0;
    __u32 tgid = BPF_CORE_READ(task, tgid);
    if ((__u32)BPF_CORE_READ(task, pid) != tgid || tgid == tawon_config.host_tgid)
        return 0;
    __u64 directives = *active;
    struct tawon_watched_process *known = bpf_map_lookup_elem(&watched_processes, &tgid);
    if (known) {
        /* Widened in place: a budget already running keeps counting down. */
        __sync_fetch_and_or(&known->directives, directives);
        directives = known->directives;
        known->changed_ns = bpf_ktime_get_boot_ns();
    } else {
        struct tawon_watched_process watched = undecided_process(directives);
        bpf_map_update_elem(&watched_processes, &tgid, &watched, BPF_ANY);
        mark_watched(tgid);
    }
    struct process_event *record = begin_process_record(TAWON_RECORD_PROCESS_RENAME, task, directives);
    if (!record)
        return 0;
    /* The tracepoint fires before the new name is copied into the task: take it from the call. */
    bpf_probe_read_kernel_str(record->comm, sizeof(record->comm), comm);
    finish_process_record(record);
    return 0;
}

/* The thread ends inside exit or exit_group: reported if a directive wants the call. */
static __always_inline void report_ending_call(struct task_struct *task)
{
    struct pt_regs *regs = user_registers(task);
    if (!in_syscall(regs))
        return; /* killed by a signal */
    long id = regs->orig_ax;
    bool compat = is_compat_task(task);
    if (!(compat ? id == 1 || id == 252 : id == 60 || id == 231))
        return;
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 tgid = pid_tgid >> 32;
    if (!may_be_watched(tgid))
        return;
    struct tawon_watched_process *watched = bpf_map_lookup_elem(&watched_processes, &tgid);
    __u32 key = (__u32)id + (compat ? SYSCALLS_COMPAT_BASE : 0);
    __u64 *hooking = bpf_map_lookup_elem(&exit_hooked_syscalls, &key);
    if (!watched || !hooking || !(watched->directives & *hooking) || tgid == tawon_config.host_tgid)
        return;
    struct syscalls_event_header *record = bpf_ringbuf_reserve(&events, sizeof(*record), 0);
    if (!record) {
        count_lost();
        return;
    }
    __u64 args[SYSCALLS_ARGS];
    read_arguments(regs, compat, args);
    fill_syscall_header(record, TAWON_RECORD_SYSCALL_FINAL, task, args, id, pid_tgid, compat,
                        watched->directives & *hooking, 0);
    bpf_ringbuf_submit(record, 0);
}

/*
 * The process ends with the last of its threads to exit, which need not be its main thread (that
 * one may pthread_exit while others go on calling). Two threads exiting at once may both see
 * none left: the one whose delete succeeds reports the exit.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(process_exit, struct task_struct *task)
{
    report_ending_call(bpf_get_current_task_btf());
    if (BPF_CORE_READ(task, signal, live.counter) != 0)
        return 0; /* other threads live on */
    __u32 tgid = BPF_CORE_READ(task, tgid);
    if (!may_be_watched(tgid))
        return 0;
    struct tawon_watched_process *watched = bpf_map_lookup_elem(&watched_processes, &tgid);
    if (!watched)
        return 0;
    __u64 directives = watched->directives;
    if (bpf_map_delete_elem(&watched_processes, &tgid) != 0)
        return 0;
    unmark_watched(tgid);
    struct process_event *record = begin_process_record(TAWON_RECORD_PROCESS_EXIT, task, directives);
    if (!record)
        return 0;
    /* The process as its parent knows it: its main thread's name, start and wait status. */
    struct task_struct *leader = BPF_CORE_READ(task, group_leader);
    BPF_CORE_READ_STR_INTO(&record->comm, leader, comm);
    record->start_boottime = BPF_CORE_READ(leader, start_boottime);
    struct signal_struct *signal = BPF_CORE_READ(task, signal);
    bool group_exit = BPF_CORE_READ(signal, flags) & SIGNAL_GROUP_EXIT;
    record->exit_code = group_exit ? BPF_CORE_READ(signal, group_exit_code) : BPF_CORE_READ(leader, exit_code);
    finish_process_record(record);
    return 0;
}
