/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared between bpf/syscalls.bpf.c and the host (Sources/Host/BPF/SyscallsProgram.swift):
 * the capture plans and the syscall record.
 */
#ifndef TAWON_SYSCALLS_H
#define TAWON_SYSCALLS_H

#include "records.h"

#define SYSCALLS_ARGS 6
/* Syscall masks and capture plans: native numbers at [0, 512), i386 numbers at [512, 1024). */
#define SYSCALLS_TABLE_SIZE 512
#define SYSCALLS_COMPAT_BASE 512
#define SYSCALLS_MAX_CAPTURES 4
/* A 32-bit process's socketcall and ipc are reported as the call they carry, under its i386
 * number; the calls that exist on i386 only inside them get numbers after the i386 table. */
#define SYSCALLS_I386_SOCKETCALL 102
#define SYSCALLS_I386_IPC 117
#define SYSCALLS_I386_ACCEPT 500
#define SYSCALLS_I386_SEND 501
#define SYSCALLS_I386_RECV 502
#define SYSCALLS_I386_SEMOP 503
#define SYSCALLS_I386_SEMTIMEDOP 504
/* Captured user memory: each capture starts below HALF and reads at most HALF bytes. */
#define SYSCALLS_CAPTURE_AREA 8192
#define SYSCALLS_CAPTURE_HALF 4096
#define SYSCALLS_PATH_LIMIT 1024
#define SYSCALLS_SOCKADDR_LIMIT 128
#define SYSCALLS_BUFFER_LIMIT_MAX 4095

/* How to capture one argument's user memory (capture_plan.kind). */
enum syscalls_capture_kind {
    SYSCALLS_CAPTURE_NONE = 0,
    SYSCALLS_CAPTURE_STRING = 1,   /* NUL-terminated, e.g. a path */
    SYSCALLS_CAPTURE_BUFFER = 2,   /* length in argument length_arg, cut at buffer_limit */
    SYSCALLS_CAPTURE_SOCKADDR = 3, /* length in argument length_arg, cut at SOCKADDR_LIMIT */
    /* At exit only: what the call wrote. */
    SYSCALLS_CAPTURE_BUFFER_RETURN = 4,  /* length: the return value, cut at buffer_limit */
    SYSCALLS_CAPTURE_FIXED = 5,          /* length: fixed_length (a struct: stat, utsname...) */
    SYSCALLS_CAPTURE_SOCKADDR_LENGTH_POINTER = 6, /* length in the int argument length_arg points to */
    /* A string only when argument 0 (an option, as prctl's) is in [fixed_length, fixed_length +
     * length_arg): other options pass a number there. Reported as SYSCALLS_CAPTURE_STRING. */
    SYSCALLS_CAPTURE_STRING_FOR_OPTIONS = 7,
    SYSCALLS_CAPTURE_STRING_RETURN = 8, /* At exit only: a string the call wrote (getcwd's) */
};

/* Value of the capture_plans (at entry) and exit_plans (at exit) maps, one per syscall number. */
struct syscalls_capture_plan {
    __u8 kind[SYSCALLS_ARGS];
    __u8 length_arg[SYSCALLS_ARGS];
    __u16 fixed_length[SYSCALLS_ARGS]; /* SYSCALLS_CAPTURE_FIXED: bytes to read */
};

struct syscalls_capture {
    __u8 arg;       /* argument index */
    __u8 kind;      /* enum syscalls_capture_kind */
    __u8 truncated; /* 1: cut at the limit */
    __u8 fault;     /* 1: could not be read */
    __u16 offset;   /* into data[] */
    __u16 length;   /* bytes in data[] (strings without their NUL) */
};

/* A syscall record's fixed part: at entry (TAWON_RECORD_SYSCALL_ENTER), at exit
 * (TAWON_RECORD_SYSCALL_EXIT, where ret holds the result and the captures are what the exit plan
 * reads: the inputs, and what the call wrote when it succeeded), of a call that has not returned
 * (TAWON_RECORD_SYSCALL_PENDING, entry plan), or of one that ends its thread
 * (TAWON_RECORD_SYSCALL_FINAL, no captures).
 * header.directives: the directives watching both this process and this syscall. */
struct syscalls_event_header {
    struct tawon_record_header header;
    __u64 args[SYSCALLS_ARGS];
    __u64 cap_inheritable; /* the caller's capability sets at this very call */
    __u64 cap_permitted;
    __u64 cap_effective;
    __u64 cap_bounding;
    __u64 cap_ambient;
    __s64 ret;             /* EXIT: the return value (a negative errno on failure) */
    __u32 syscall_nr;
    __u8 compat;           /* 1: a 32-bit task; syscall_nr is an i386 number */
    __u8 capture_count;
    __u16 data_length;
    char comm[TAWON_COMM_LEN];
};

/* A syscall record: the header alone when nothing was captured (capture_count 0, most calls);
 * else the header, the capture slots, then data_length bytes of captured memory. */
struct syscalls_event {
    struct syscalls_event_header h;
    struct syscalls_capture captures[SYSCALLS_MAX_CAPTURES];
    __u8 data[SYSCALLS_CAPTURE_AREA];
};

#endif /* TAWON_SYSCALLS_H */
