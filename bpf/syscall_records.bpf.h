/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Filling a syscall record (bpf/syscalls.h) from the calling thread's saved registers. Shared by
 * bpf/syscalls.bpf.c and bpf/process.bpf.c, which reports the calls that end a thread.
 * Included by BPF programs only.
 */
#ifndef TAWON_SYSCALL_RECORDS_BPF_H
#define TAWON_SYSCALL_RECORDS_BPF_H

#include "shared_maps.bpf.h"
#include "syscalls.h"

#define SYSCALLS_ENOSYS 38

static __always_inline bool is_compat_task(struct task_struct *task)
{
    return (task->thread_info.status & TS_COMPAT) != 0;
}

/* The registers the thread entered the kernel with. */
static __always_inline struct pt_regs *user_registers(struct task_struct *task)
{
    return (struct pt_regs *)bpf_task_pt_regs(task);
}

/* Whether the thread is inside a syscall: the entry code sets ax to -ENOSYS until the call
 * returns; an interrupt or a fault leaves the user's ax there and puts no number in orig_ax. */
static __always_inline bool in_syscall(struct pt_regs *regs)
{
    return (long)regs->ax == -SYSCALLS_ENOSYS && (long)regs->orig_ax >= 0;
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

/* The task's five capability sets into the cap_* fields of `record` (a syscall or a process
 * record). Direct BTF loads (CO-RE relocated): no helper calls on the hot path; the tracepoints
 * hand over trusted task pointers. */
#define read_capabilities(task, record)                                   \
    do {                                                                  \
        const struct cred *cred_ = (task)->cred;                          \
        (record)->cap_inheritable = cred_->cap_inheritable.val;           \
        (record)->cap_permitted = cred_->cap_permitted.val;               \
        (record)->cap_effective = cred_->cap_effective.val;               \
        (record)->cap_bounding = cred_->cap_bset.val;                     \
        (record)->cap_ambient = cred_->cap_ambient.val;                   \
    } while (0)

static __always_inline void fill_syscall_header(struct syscalls_event_header *h, __u16 kind,
                                                struct task_struct *task, const __u64 *args, long id,
                                                __u64 pid_tgid, bool compat, __u64 directives, long ret)
{
    fill_record_header(&h->header, kind, sizeof(*h), pid_tgid >> 32, (__u32)pid_tgid, directives);
    h->ret = ret;
    h->syscall_nr = (__u32)id;
    h->compat = compat;
    h->capture_count = 0;
    h->data_length = 0;
    /* The thread's name, read in place: the helper costs a tenth of a traced call. The host
     * reads it up to a NUL or its 16 bytes, so a rename seen half-done is still a name. */
    __builtin_memcpy(h->comm, task->comm, sizeof(h->comm));
    __builtin_memcpy(h->args, args, sizeof(h->args));
    read_capabilities(task, h);
}

#endif /* TAWON_SYSCALL_RECORDS_BPF_H */
