/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared between bpf/syscalls.bpf.c and the host (Sources/Host/BPF/SyscallsProgram.swift):
 * the maps' keys and values, the configuration, and the records in the ring buffer.
 */
#ifndef TAWON_SYSCALLS_H
#define TAWON_SYSCALLS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define SYSCALLS_COMM_LEN 16
#define SYSCALLS_ARGS 6
/* Syscall masks and capture plans: native numbers at [0, 512), i386 numbers at [512, 1024). */
#define SYSCALLS_TABLE_SIZE 512
#define SYSCALLS_COMPAT_BASE 512
#define SYSCALLS_MAX_CAPTURES 4
/* Captured user memory: each capture starts below HALF and reads at most HALF bytes. */
#define SYSCALLS_CAPTURE_AREA 8192
#define SYSCALLS_CAPTURE_HALF 4096
#define SYSCALLS_PATH_LIMIT 1024
#define SYSCALLS_SOCKADDR_LIMIT 128
#define SYSCALLS_BUFFER_LIMIT_MAX 4095
/* Records a process may send before the host has decided about it (after exec): enough for its
 * first syscalls, too few for a flood from a process nobody will select. */
#define SYSCALLS_UNDECIDED_BUDGET 4096

/* What a record in the ring buffer is. */
enum syscalls_record_kind {
    SYSCALLS_RECORD_SYSCALL = 1,
    SYSCALLS_RECORD_EXEC = 2, /* a process called execve: decide whether to watch it */
    SYSCALLS_RECORD_FORK = 3, /* a process was created (the child inherited its parent's mask) */
    SYSCALLS_RECORD_EXIT = 4, /* a process (thread group) ended */
};

/* How to capture one argument's user memory (capture_plan.kind). */
enum syscalls_capture_kind {
    SYSCALLS_CAPTURE_NONE = 0,
    SYSCALLS_CAPTURE_STRING = 1,   /* NUL-terminated, e.g. a path */
    SYSCALLS_CAPTURE_BUFFER = 2,   /* length in argument length_arg, cut at buffer_limit */
    SYSCALLS_CAPTURE_SOCKADDR = 3, /* length in argument length_arg, cut at SOCKADDR_LIMIT */
};

/* Value of the capture_plans map, one per syscall number. */
struct syscalls_capture_plan {
    __u8 kind[SYSCALLS_ARGS];
    __u8 length_arg[SYSCALLS_ARGS];
};

/* Configuration, set by the host before load. */
struct syscalls_config {
    __u32 host_tgid;     /* never traced: the host would trace its own reading */
    __u32 buffer_limit;  /* bytes captured of a write/send buffer */
    __u64 wakeup_bytes;  /* wake the reader once this much is waiting */
};

/* Drops and faults, per CPU (the counters map). */
struct syscalls_counters {
    __u64 ringbuf_full;   /* records lost: no room in the ring buffer */
    __u64 capture_faults; /* user memory that could not be read */
    __u64 held_undecided; /* records held back from a process the host had not yet decided about */
};

struct syscalls_capture {
    __u8 arg;       /* argument index */
    __u8 kind;      /* enum syscalls_capture_kind */
    __u8 truncated; /* 1: cut at the limit */
    __u8 fault;     /* 1: could not be read */
    __u16 offset;   /* into data[] */
    __u16 length;   /* bytes in data[] (strings without their NUL) */
};

/* A syscall record's fixed part. */
struct syscalls_event_header {
    __u32 kind; /* SYSCALLS_RECORD_SYSCALL */
    __u32 cpu;
    __u64 timestamp_ns;   /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
    __u64 directives;     /* directives watching both this process and this syscall */
    __u64 args[SYSCALLS_ARGS];
    __u64 cap_inheritable; /* the caller's capability sets at this very call */
    __u64 cap_permitted;
    __u64 cap_effective;
    __u64 cap_bounding;
    __u64 cap_ambient;
    __u32 tgid;
    __u32 tid;
    __u32 syscall_nr;
    __u8 compat;           /* 1: a 32-bit task; syscall_nr is an i386 number */
    __u8 capture_count;
    __u16 data_length;
    char comm[SYSCALLS_COMM_LEN];
    struct syscalls_capture captures[SYSCALLS_MAX_CAPTURES];
};

/* A syscall record: the header, then data_length bytes of captured memory. */
struct syscalls_event {
    struct syscalls_event_header h;
    __u8 data[SYSCALLS_CAPTURE_AREA];
};

#define SYSCALLS_EXE_LEN 256
#define SYSCALLS_ARGS_LEN 512

/*
 * A process lifecycle record (EXEC, FORK, EXIT): what /proc would say, taken in the kernel at
 * the moment, so the host knows a process even when it is gone before /proc can be read.
 */
struct syscalls_process_event {
    __u32 kind;
    __u32 cpu;
    __u64 timestamp_ns;
    __u32 tgid;
    __u32 parent_tgid;      /* the real parent's tgid */
    char comm[SYSCALLS_COMM_LEN];
    __u64 start_boottime;   /* ns since boot, as /proc/PID/stat's starttime */
    __u32 mnt_ns;           /* inode of the mount namespace */
    __u16 exe_length;       /* EXEC: bytes in exe, without the NUL */
    __u16 args_length;      /* EXEC: bytes in args (NUL-separated, as /proc/PID/cmdline) */
    char exe[SYSCALLS_EXE_LEN];   /* EXEC: the file being executed */
    char args[SYSCALLS_ARGS_LEN]; /* EXEC: the command line, cut at SYSCALLS_ARGS_LEN */
};

#endif /* TAWON_SYSCALLS_H */
