// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The floor of a tracer at sys_enter: a program that does nothing, attached where tawon's is
 * while a directive asks for calls at entry (entryOnly), and where bpftrace's
 * raw_syscalls:sys_enter probe is. Every syscall of every process then takes the kernel's
 * tracing path; what such a tracer adds to an untraced process beyond this is its own work. */
#include "../bpf/vmlinux_subset.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sys_enter")
int BPF_PROG(empty_sys_enter, struct pt_regs *regs, long id)
{
    return 0;
}
