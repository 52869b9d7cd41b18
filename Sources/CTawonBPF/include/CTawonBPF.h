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

#endif /* CTAWON_BPF_H */
