// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Self-check: report one process's calls of one syscall, to prove the kernel-to-host path. */
#include "vmlinux_subset.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "selfcheck.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} selfcheck_events SEC(".maps");

/* Inputs. */
const volatile struct selfcheck_config selfcheck_config = {};

/* Outputs. */
__u64 selfcheck_dropped = 0;

SEC("tp_btf/sys_enter")
int BPF_PROG(selfcheck_sys_enter, struct pt_regs *regs, long id)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();

    if ((__u32)(pid_tgid >> 32) != selfcheck_config.target_tgid ||
        id != selfcheck_config.target_syscall)
        return 0;

    struct selfcheck_event *event = bpf_ringbuf_reserve(&selfcheck_events, sizeof(*event), 0);
    if (!event) {
        __sync_fetch_and_add(&selfcheck_dropped, 1);
        return 0;
    }
    event->timestamp_ns = bpf_ktime_get_ns();
    event->tgid = pid_tgid >> 32;
    event->tid = (__u32)pid_tgid;
    event->syscall_nr = (__u32)id;
    event->cpu = bpf_get_smp_processor_id();
    bpf_get_current_comm(event->comm, sizeof(event->comm));
    bpf_ringbuf_submit(event, 0);
    return 0;
}
