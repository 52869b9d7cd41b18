// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The floor of a tracer that also reads each call's return: programs that do nothing, attached
 * at sys_enter and at sys_exit, where tawon's are when a directive wants return values. */
#include "../bpf/vmlinux_subset.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sys_enter")
int BPF_PROG(empty_sys_enter, struct pt_regs *regs, long id)
{
    return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(empty_sys_exit, struct pt_regs *regs, long ret)
{
    return 0;
}
