/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared between bpf/selfcheck.bpf.c and the host (Sources/Host/BPF/SelfcheckProgram.swift):
 * the self-check program proves that a BPF program loads, attaches at sys_enter and delivers
 * one record through a ring buffer.
 */
#ifndef TAWON_SELFCHECK_H
#define TAWON_SELFCHECK_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define SELFCHECK_COMM_LEN 16

/* Configuration, set by the host before load (the program's `const volatile` inputs). */
struct selfcheck_config {
    __u32 target_tgid;  /* the only process whose syscalls are reported */
    __u32 target_syscall; /* the only syscall number reported */
};

/* One record per matching sys_enter. */
struct selfcheck_event {
    __u64 timestamp_ns; /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
    __u32 tgid;
    __u32 tid;
    __u32 syscall_nr;
    __u32 cpu;
    char comm[SELFCHECK_COMM_LEN];
};

#endif /* TAWON_SELFCHECK_H */
