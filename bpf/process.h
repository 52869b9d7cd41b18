/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared between bpf/process.bpf.c and the host (Sources/Host/EventSources/ProcessProgram.swift):
 * the process lifecycle record (exec, fork, exit).
 */
#ifndef TAWON_PROCESS_H
#define TAWON_PROCESS_H

#include "records.h"

#define PROCESS_EXE_LEN 256
#define PROCESS_ARGS_LEN 512
/* "cri-containerd-" + 64 hex digits + ".scope" fits. */
#define PROCESS_CGROUP_LEN 96

/*
 * A process lifecycle record (TAWON_RECORD_PROCESS_EXEC, _FORK, _EXIT, _RENAME): what /proc
 * would say, taken in the kernel at the moment, so the host knows a process even when it is gone
 * before /proc can be read. header.directives: EXEC and RENAME, every active directive (the host
 * decides again); FORK, the mask the child inherited; EXIT, the mask the process had. comm is
 * the name the process has from then on (RENAME: its new name).
 */
struct process_event {
    struct tawon_record_header header;
    __u32 parent_tgid;        /* the real parent's tgid */
    __u32 mnt_ns;             /* inode of the mount namespace */
    __u64 start_boottime;     /* ns since boot, as /proc/PID/stat's starttime */
    __u64 cap_inheritable;    /* the process's capability sets at that moment */
    __u64 cap_permitted;
    __u64 cap_effective;
    __u64 cap_bounding;
    __u64 cap_ambient;
    __s32 exit_code;          /* EXIT: the wait status (code << 8 | signal) */
    __u16 exe_length;         /* EXEC: bytes in exe, without the NUL */
    __u16 args_length;        /* EXEC: bytes in args (NUL-separated, as /proc/PID/cmdline) */
    char comm[TAWON_COMM_LEN];
    char exe[PROCESS_EXE_LEN];   /* EXEC: the file being executed */
    char args[PROCESS_ARGS_LEN]; /* EXEC: the command line, cut at PROCESS_ARGS_LEN */
    /* The name of the process's cgroup in the unified hierarchy (its last path component): it
     * names the container, even when the process is gone before /proc/PID/cgroup is read. */
    char cgroup[PROCESS_CGROUP_LEN];
};

#endif /* TAWON_PROCESS_H */
