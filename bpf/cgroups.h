/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared between bpf/cgroups.bpf.c and the host (Sources/Host/BPF/CgroupsProgram.swift): a cgroup
 * made or removed, from which the host derives containers created and removed.
 */
#ifndef TAWON_CGROUPS_H
#define TAWON_CGROUPS_H

#include "records.h"

/* "/kubepods/burstable/pod" + a uid + "/cri-containerd-" + 64 hex digits + ".scope" fits. */
#define CGROUP_PATH_LEN 256

/*
 * TAWON_RECORD_CGROUP_MKDIR or _RMDIR. header.tgid and tid: the process that made or removed
 * the cgroup (a runtime's); header.directives: 0 (the host decides who wants it).
 */
struct cgroup_event {
    struct tawon_record_header header;
    __u64 cgroup_id;    /* the cgroup's kernfs id (its directory's inode number) */
    __u32 hierarchy_id; /* 0: the unified (v2) hierarchy */
    __u16 path_length;  /* bytes in path, without the NUL */
    __u16 reserved;
    char comm[TAWON_COMM_LEN]; /* the process that made or removed it */
    char path[CGROUP_PATH_LEN]; /* within its hierarchy, e.g. "/machine.slice/libpod-ID.scope" */
};

#endif /* TAWON_CGROUPS_H */
