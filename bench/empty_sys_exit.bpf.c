// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The floor of a tracer at one syscall tracepoint: a program that does nothing, attached where
 * tawon's is by default (it reports calls whole, at return). Every syscall of every process then
 * takes the kernel's tracing path; what tawon adds to an untraced process beyond this is its own
 * program's work. */
#include "../bpf/vmlinux_subset.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sys_exit")
int BPF_PROG(empty_sys_exit, struct pt_regs *regs, long ret)
{
    return 0;
}
