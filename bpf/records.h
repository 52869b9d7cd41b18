/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The records every tawon BPF program writes into the one ring buffer, and the maps they share.
 * Every record starts with struct tawon_record_header; its kind says which layout follows
 * (bpf/process.h, bpf/syscalls.h). The host (Sources/Host/EventSources) reads the header, then
 * hands the record to the decoder registered for its kind.
 */
#ifndef TAWON_RECORDS_H
#define TAWON_RECORDS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define TAWON_COMM_LEN 16

/* What a record is. Values never change meaning; new kinds are added. */
enum tawon_record_kind {
    TAWON_RECORD_SYSCALL_ENTER = 1, /* bpf/syscalls.h */
    TAWON_RECORD_PROCESS_EXEC = 2,  /* bpf/process.h: decide whether to watch the new image */
    TAWON_RECORD_PROCESS_FORK = 3,  /* a watched process made a child, which inherited its mask */
    TAWON_RECORD_PROCESS_EXIT = 4,  /* a watched process (thread group) ended */
    TAWON_RECORD_PROCESS_RENAME = 5, /* a process renamed its main thread (prctl PR_SET_NAME) */
    TAWON_RECORD_SYSCALL_EXIT = 6,   /* bpf/syscalls.h: the call returned */
    TAWON_RECORD_CGROUP_MKDIR = 7,   /* bpf/cgroups.h: a cgroup was made */
    TAWON_RECORD_CGROUP_RMDIR = 8,   /* bpf/cgroups.h: a cgroup was removed */
    /* bpf/syscalls.h: a call that has not returned: its thread blocked in it, or it is an exec
     * past its point of no return (its return comes in the new image, without the arguments). */
    TAWON_RECORD_SYSCALL_PENDING = 9,
    TAWON_RECORD_SYSCALL_FINAL = 10, /* bpf/syscalls.h: exit or exit_group ends the thread */
};

/* The first 40 bytes of every record. */
struct tawon_record_header {
    __u16 kind;         /* enum tawon_record_kind */
    __u16 header_size;  /* sizeof(struct tawon_record_header) as the program was built */
    __u32 size;         /* bytes in the whole record, this header included */
    __u64 timestamp_ns; /* bpf_ktime_get_boot_ns: CLOCK_BOOTTIME, the base of process start times */
    __u32 cpu;
    __u32 tgid;         /* the process (thread group) the record is about */
    __u32 tid;
    __u32 reserved;
    __u64 directives;   /* bit n: directive slot n wants this record */
};

/* Drops and faults of every program, per CPU (the counters map). */
struct tawon_counters {
    __u64 ringbuf_full;   /* records lost: no room in the ring buffer */
    __u64 capture_faults; /* user memory that could not be read */
    __u64 held_undecided; /* records held back from a process the host had not yet decided about */
};

/* Configuration every program gets from the host before load. */
struct tawon_config {
    __u32 host_tgid;    /* never traced: the host would trace its own reading */
    __u32 buffer_limit; /* bytes captured of a write/send buffer */
    __u64 wakeup_bytes; /* a CPU wakes the reader each time it has submitted this much */
};

/* Records a process may send before the host has decided about it (after exec): its first
 * ~20 ms of calls at full speed, time for a reader on a loaded machine to be scheduled, read
 * the exec record and decide; yet a bounded share of the ring for a process nobody selects. */
#define TAWON_UNDECIDED_BUDGET 65536

/* A watched process (the watched_processes map's value): one lookup per call says both who
 * watches it and whether it is still held to the undecided budget. */
struct tawon_watched_process {
    __u64 directives;       /* bit n: directive slot n watches the process */
    __u32 undecided;        /* 1 until the host has decided about the process */
    __u32 undecided_budget; /* records it may still send while undecided */
    __u64 changed_ns;       /* boot time the kernel last set it (exec, fork, rename): the host does
                             * not overwrite a change whose record it has not read yet */
};

#endif /* TAWON_RECORDS_H */
