#include "CTawonBPF.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* The host reads these records straight out of the ring buffer: sizes must match the kernel's. */
_Static_assert(sizeof(struct selfcheck_event) == 40, "selfcheck_event layout changed");
_Static_assert(offsetof(struct syscalls_event, captures) == sizeof(struct syscalls_event_header),
               "syscalls_event capture slots must follow its header directly");
_Static_assert(offsetof(struct syscalls_event, data) ==
                   sizeof(struct syscalls_event_header) + SYSCALLS_MAX_CAPTURES * sizeof(struct syscalls_capture),
               "syscalls_event data must follow its capture slots directly");
_Static_assert(sizeof(struct syscalls_capture) == 8, "syscalls_capture layout changed");

struct bpf_object *ctawon_bpf_open_mem(const void *buffer, size_t size, const char *name)
{
    LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = name);
    return bpf_object__open_mem(buffer, size, &options);
}

static struct bpf_map *find_section_map(struct bpf_object *object, const char *section)
{
    /* Internal maps are named "<object name, maybe cut short><section>": match the suffix. */
    size_t suffix_length = strlen(section);
    struct bpf_map *map = NULL;
    while ((map = bpf_object__next_map(object, map)) != NULL) {
        const char *name = bpf_map__name(map);
        size_t length = strlen(name);
        if (length >= suffix_length && strcmp(name + length - suffix_length, section) == 0)
            return map;
    }
    return NULL;
}

static const struct btf_var_secinfo *find_variable(const struct btf *btf, const char *section,
                                                   const char *variable)
{
    int section_id = btf__find_by_name_kind(btf, section, BTF_KIND_DATASEC);
    if (section_id < 0)
        return NULL;
    const struct btf_type *datasec = btf__type_by_id(btf, section_id);
    const struct btf_var_secinfo *info = btf_var_secinfos(datasec);
    for (int i = 0; i < btf_vlen(datasec); i++, info++) {
        const struct btf_type *var = btf__type_by_id(btf, info->type);
        if (strcmp(btf__name_by_offset(btf, var->name_off), variable) == 0)
            return info;
    }
    return NULL;
}

void *ctawon_bpf_global(struct bpf_object *object, const char *section, const char *variable,
                        size_t *size)
{
    struct bpf_map *map = find_section_map(object, section);
    const struct btf *btf = bpf_object__btf(object);
    const struct btf_var_secinfo *info = btf ? find_variable(btf, section, variable) : NULL;
    size_t map_size = 0;
    char *base = map ? (char *)bpf_map__initial_value(map, &map_size) : NULL;
    if (!base || !info || info->offset + info->size > map_size) {
        errno = ENOENT;
        return NULL;
    }
    *size = info->size;
    return base + info->offset;
}

int ctawon_ring_wait_descriptor(int map_fd)
{
    int wait_fd = epoll_create1(EPOLL_CLOEXEC);
    if (wait_fd < 0)
        return -1;
    struct epoll_event event = {.events = EPOLLIN, .data.fd = map_fd};
    if (epoll_ctl(wait_fd, EPOLL_CTL_ADD, map_fd, &event) < 0) {
        int error = errno;
        close(wait_fd);
        errno = error;
        return -1;
    }
    return wait_fd;
}

int ctawon_ring_wait(int wait_fd, int timeout_ms)
{
    struct epoll_event event;
    return epoll_wait(wait_fd, &event, 1, timeout_ms);
}
