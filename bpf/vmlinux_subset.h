/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The few kernel types tawon's BPF programs use, instead of the 135k-line vmlinux.h dump.
 * Every struct is marked preserve_access_index, so field offsets are CO-RE relocations that
 * libbpf resolves against the running kernel's BTF at load time: only the names must match
 * the kernel, not the layout written here. Constants are stable UAPI values.
 */
#ifndef TAWON_VMLINUX_SUBSET_H
#define TAWON_VMLINUX_SUBSET_H

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
enum { false = 0, true = 1 };

/* UAPI constants (include/uapi/linux/bpf.h). */
enum bpf_map_type {
    BPF_MAP_TYPE_HASH = 1,
    BPF_MAP_TYPE_ARRAY = 2,
    BPF_MAP_TYPE_PERCPU_ARRAY = 6,
    BPF_MAP_TYPE_LRU_HASH = 9,
    BPF_MAP_TYPE_RINGBUF = 27,
};
enum {
    BPF_ANY = 0,
    BPF_NOEXIST = 1,
    BPF_EXIST = 2,
};
enum {
    BPF_F_MMAPABLE = 1U << 10,
};
enum {
    BPF_RB_NO_WAKEUP = 1,
    BPF_RB_FORCE_WAKEUP = 2,
};

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

/* x86_64 saved user registers (arch/x86/include/asm/ptrace.h). */
struct pt_regs {
    unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
    unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};

/* x86 thread_info: `status` holds TS_COMPAT while a 32-bit syscall runs. */
struct thread_info {
    unsigned long flags;
    unsigned long syscall_work;
    __u32 status;
};

/* Since 6.3 a capability set is one u64. */
typedef struct {
    __u64 val;
} kernel_cap_t;

struct cred {
    kernel_cap_t cap_inheritable;
    kernel_cap_t cap_permitted;
    kernel_cap_t cap_effective;
    kernel_cap_t cap_bset;
    kernel_cap_t cap_ambient;
};

struct ns_common {
    unsigned int inum;
};

struct mnt_namespace {
    struct ns_common ns;
};

struct nsproxy {
    struct mnt_namespace *mnt_ns;
};

struct mm_struct {
    unsigned long arg_start;
    unsigned long arg_end;
};

/* The unified (v2) hierarchy's cgroup of a task, and its directory's name and id. */
struct kernfs_node {
    const char *name;
    __u64 id;
};

struct cgroup_root {
    int hierarchy_id;
};

struct cgroup {
    struct kernfs_node *kn;
    struct cgroup_root *root;
};

struct css_set {
    struct cgroup *dfl_cgrp;
};

typedef struct {
    int counter;
} atomic_t;

struct signal_struct {
    atomic_t live;          /* threads of the group that have not begun to exit */
    unsigned int flags;     /* SIGNAL_GROUP_EXIT: exit_group or a fatal signal ends them all */
    int group_exit_code;
};

struct task_struct {
    struct thread_info thread_info;
    int pid;
    int tgid;
    struct task_struct *real_parent;
    struct task_struct *group_leader;
    const struct cred *cred;
    char comm[16];
    int exit_code;
    __u64 start_boottime;
    struct nsproxy *nsproxy;
    struct mm_struct *mm;
    struct css_set *cgroups;
    struct signal_struct *signal;
};

struct linux_binprm {
    const char *filename;
};

#pragma clang attribute pop

#define TS_COMPAT 0x0002
#define SIGNAL_GROUP_EXIT 0x00000004
#define BPF_RB_AVAIL_DATA 0

#endif /* TAWON_VMLINUX_SUBSET_H */
