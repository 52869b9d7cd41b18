/*
 * C side of the host's BPF layer: the record layouts shared with the programs in bpf/ (one
 * source of truth: the same headers the BPF programs include), and small shims for libbpf
 * features that are macros or static inline functions, which Swift cannot call directly.
 */
#ifndef CTAWON_BPF_H
#define CTAWON_BPF_H

#include <stddef.h>
#include <stdint.h>

#include "../../../bpf/selfcheck.h"
#include "../../../bpf/records.h"
#include "../../../bpf/process.h"
#include "../../../bpf/syscalls.h"
#include "../../../bpf/cgroups.h"

struct bpf_object;

/*
 * Opens an ELF BPF object from memory under `name` (bpf_object__open_mem with LIBBPF_OPTS).
 * The buffer must stay valid until the object is closed.
 * Returns NULL and sets errno on failure.
 */
struct bpf_object *ctawon_bpf_open_mem(const void *buffer, size_t size, const char *name);

/*
 * Finds the global variable `variable` in the data section `section` (".rodata", ".bss",
 * ".data") of an opened object, through the object's BTF. Before load this is the initial value
 * the host may set; after load, for .bss and .data, the live memory shared with the kernel.
 * Returns NULL and sets errno (ENOENT) when there is no such variable; *size gets its size.
 */
void *ctawon_bpf_global(struct bpf_object *object, const char *section, const char *variable,
                        size_t *size);

/*
 * An epoll instance that reports when the ring buffer map `map_fd` has data (level-triggered).
 * Returns its descriptor, or -1 with errno set.
 */
int ctawon_ring_wait_descriptor(int map_fd);

/*
 * Waits up to `timeout_ms` on a descriptor from ctawon_ring_wait_descriptor. Returns 1 when the
 * ring has data, 0 on timeout, or -1 with errno set (EINTR included).
 */
int ctawon_ring_wait(int wait_fd, int timeout_ms);

/*
 * The ordered loads and stores a ring buffer's reader needs on the positions and record headers
 * it shares with the kernel's producers: acquire and release, as libbpf's reader does.
 */
static inline uint64_t ctawon_load_acquire_u64(const uint64_t *location)
{
    return __atomic_load_n(location, __ATOMIC_ACQUIRE);
}

static inline uint32_t ctawon_load_acquire_u32(const uint32_t *location)
{
    return __atomic_load_n(location, __ATOMIC_ACQUIRE);
}

static inline void ctawon_store_release_u64(uint64_t *location, uint64_t value)
{
    __atomic_store_n(location, value, __ATOMIC_RELEASE);
}

/*
 * Atomic bit changes in a word shared with the kernel's programs (a BPF_F_MMAPABLE array),
 * which change the same words with atomic instructions of their own.
 */
static inline void ctawon_atomic_or_u64(uint64_t *location, uint64_t bits)
{
    __atomic_fetch_or(location, bits, __ATOMIC_SEQ_CST);
}

static inline void ctawon_atomic_and_u64(uint64_t *location, uint64_t bits)
{
    __atomic_fetch_and(location, bits, __ATOMIC_SEQ_CST);
}

#endif /* CTAWON_BPF_H */
