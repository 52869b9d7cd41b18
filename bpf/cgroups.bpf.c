// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The cgroups program: reports each cgroup made or removed. Containers are cgroups: the host
 * derives a container's creation and removal from these. Attached only while some directive
 * wants those events; over the maps of the process program (bpf/shared_maps.bpf.h).
 */
#include "vmlinux_subset.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "shared_maps.bpf.h"
#include "cgroups.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline int report_cgroup(__u16 kind, struct cgroup *cgroup, const char *path)
{
    struct cgroup_event *record = bpf_ringbuf_reserve(&events, sizeof(*record), 0);
    if (!record) {
        count_lost();
        return 0;
    }
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    fill_record_header(&record->header, kind, sizeof(*record), pid_tgid >> 32, (__u32)pid_tgid, 0);
    record->cgroup_id = BPF_CORE_READ(cgroup, kn, id);
    record->hierarchy_id = BPF_CORE_READ(cgroup, root, hierarchy_id);
    record->reserved = 0;
    bpf_get_current_comm(record->comm, sizeof(record->comm));
    long length = bpf_probe_read_kernel_str(record->path, sizeof(record->path), path);
    record->path_length = length > 0 ? length - 1 : 0;
    /* Rare, and a container's first processes follow at once: wake the reader. */
    bpf_ringbuf_submit(record, BPF_RB_FORCE_WAKEUP);
    return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(cgroups_mkdir, struct cgroup *cgroup, const char *path)
{
    return report_cgroup(TAWON_RECORD_CGROUP_MKDIR, cgroup, path);
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(cgroups_rmdir, struct cgroup *cgroup, const char *path)
{
    return report_cgroup(TAWON_RECORD_CGROUP_RMDIR, cgroup, path);
}
