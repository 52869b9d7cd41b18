#!/usr/bin/env python3
"""Generate Sources/SyscallTable/SyscallTable.generated.swift.

Numbers come from the kernel's UAPI headers (linux-libc-dev: asm/unistd_64.h, asm/unistd_32.h)
plus the syscalls added to the kernel after those headers (NEWER_* below, from the kernel's
syscall_64.tbl / syscall_32.tbl). Argument names and C types come from the running kernel's
tracefs: events/syscalls/sys_enter_NAME/format. Syscalls without a tracefs event (not built
into this kernel, or i386-only) take their signature from SIGNATURES below, written from the
man pages; unimplemented ones have no arguments.

Run as root on a machine with tracefs: `python3 scripts/gen-syscall-table.py`.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(ROOT, "Sources/SyscallTable/SyscallTable.generated.swift")
HEADERS = "/usr/include/x86_64-linux-gnu/asm"
TRACEFS = "/sys/kernel/tracing/events/syscalls"

# Added after the installed headers (6.1), up to the newest this project was generated on.
NEWER_64 = {
    335: "uretprobe", 336: "uprobe", 451: "cachestat", 452: "fchmodat2",
    453: "map_shadow_stack", 454: "futex_wake", 455: "futex_wait", 456: "futex_requeue",
    457: "statmount", 458: "listmount", 459: "lsm_get_self_attr", 460: "lsm_set_self_attr",
    461: "lsm_list_modules", 462: "mseal", 463: "setxattrat", 464: "getxattrat",
    465: "listxattrat", 466: "removexattrat", 467: "open_tree_attr", 468: "file_getattr",
    469: "file_setattr",
}
# i386 shares the numbers from 424 on, except the x86_64-only ones.
NEWER_32 = {n: name for n, name in NEWER_64.items()
            if n >= 451 and name not in ("map_shadow_stack",)}

# tracefs names some events after the kernel function rather than the syscall.
TRACEFS_ALIASES = {
    "stat": "newstat", "lstat": "newlstat", "fstat": "newfstat", "uname": "newuname",
    "sendfile": "sendfile64", "umount2": "umount", "_llseek": "llseek",
}

# Signatures of syscalls with no tracefs event here (man pages; i386-only calls included).
SIGNATURES = {
    "init_module": [("module_image", "void *"), ("len", "unsigned long"), ("param_values", "const char *")],
    "finit_module": [("fd", "int"), ("param_values", "const char *"), ("flags", "int")],
    "delete_module": [("name", "const char *"), ("flags", "unsigned int")],
    "kexec_load": [("entry", "unsigned long"), ("nr_segments", "unsigned long"), ("segments", "struct kexec_segment *"), ("flags", "unsigned long")],
    "kexec_file_load": [("kernel_fd", "int"), ("initrd_fd", "int"), ("cmdline_len", "unsigned long"), ("cmdline", "const char *"), ("flags", "unsigned long")],
    "lookup_dcookie": [("cookie64", "u64"), ("buf", "char *"), ("len", "size_t")],
    "get_thread_area": [("u_info", "struct user_desc *")],
    "set_thread_area": [("u_info", "struct user_desc *")],
    "_sysctl": [("args", "struct __sysctl_args *")],
    "uselib": [("library", "const char *")],
    "map_shadow_stack": [("addr", "unsigned long"), ("size", "unsigned long"), ("flags", "unsigned int")],
    "listns": [("req", "const struct ns_id_req *"), ("ns_ids", "u64 *"), ("nr_ns_ids", "size_t"), ("flags", "unsigned int")],
    "uretprobe": [], "uprobe": [],
    # i386-only
    # i386's clone takes tls before child_tidptr (the kernel's CONFIG_CLONE_BACKWARDS).
    "clone": [("clone_flags", "unsigned long"), ("newsp", "unsigned long"), ("parent_tidptr", "int *"), ("tls", "unsigned long"), ("child_tidptr", "int *")],
    "waitpid": [("pid", "pid_t"), ("stat_addr", "int *"), ("options", "int")],
    "oldstat": [("filename", "const char *"), ("statbuf", "struct __old_kernel_stat *")],
    "oldfstat": [("fd", "unsigned int"), ("statbuf", "struct __old_kernel_stat *")],
    "oldlstat": [("filename", "const char *"), ("statbuf", "struct __old_kernel_stat *")],
    "umount": [("name", "char *"), ("flags", "int")],
    "stime": [("tptr", "old_time32_t *")],
    "nice": [("increment", "int")],
    "signal": [("sig", "int"), ("handler", "__sighandler_t")],
    "sigaction": [("sig", "int"), ("act", "const struct old_sigaction *"), ("oact", "struct old_sigaction *")],
    "sgetmask": [],
    "ssetmask": [("newmask", "int")],
    "sigsuspend": [("unused1", "int"), ("unused2", "int"), ("mask", "old_sigset_t")],
    "sigpending": [("uset", "old_sigset_t *")],
    "sigprocmask": [("how", "int"), ("nset", "old_sigset_t *"), ("oset", "old_sigset_t *")],
    "sigreturn": [],
    "readdir": [("fd", "unsigned int"), ("dirent", "struct old_linux_dirent *"), ("count", "unsigned int")],
    "socketcall": [("call", "int"), ("args", "unsigned long *")],
    "ipc": [("call", "unsigned int"), ("first", "int"), ("second", "unsigned long"), ("third", "unsigned long"), ("ptr", "void *"), ("fifth", "long")],
    "olduname": [("name", "struct oldold_utsname *")],
    "oldolduname": [("name", "struct oldold_utsname *")],
    "vm86old": [("user_vm86", "struct vm86_struct *")],
    "vm86": [("cmd", "unsigned long"), ("arg", "unsigned long")],
    "bdflush": [("func", "int"), ("data", "long")],
    "_llseek": [("fd", "unsigned int"), ("offset_high", "unsigned long"), ("offset_low", "unsigned long"), ("result", "loff_t *"), ("whence", "unsigned int")],
    "_newselect": [("n", "int"), ("inp", "fd_set *"), ("outp", "fd_set *"), ("exp", "fd_set *"), ("tvp", "struct old_timeval32 *")],
    "select": [("arg", "struct sel_arg_struct *")],
    "ugetrlimit": [("resource", "unsigned int"), ("rlim", "struct rlimit *")],
    "mmap2": [("addr", "unsigned long"), ("len", "unsigned long"), ("prot", "unsigned long"), ("flags", "unsigned long"), ("fd", "unsigned long"), ("pgoff", "unsigned long")],
    "mmap": [("arg", "struct mmap_arg_struct32 *")],
    "fadvise64_64": [("fd", "int"), ("offset_low", "unsigned int"), ("offset_high", "unsigned int"), ("len_low", "unsigned int"), ("len_high", "unsigned int"), ("advice", "int")],
    "time": [("tloc", "old_time32_t *")],
    "getrlimit": [("resource", "unsigned int"), ("rlim", "struct rlimit *")],
    "fstatat64": [("dfd", "int"), ("filename", "const char *"), ("statbuf", "struct stat64 *"), ("flag", "int")],
}
UNIMPLEMENTED = {
    "afs_syscall", "create_module", "epoll_ctl_old", "epoll_wait_old", "get_kernel_syms",
    "getpmsg", "nfsservctl", "putpmsg", "query_module", "security", "tuxcall", "vserver",
    "break", "stty", "gtty", "ftime", "prof", "lock", "mpx", "ulimit", "profil", "idle",
}


def read_numbers(header, newer):
    numbers = {}
    with open(header) as handle:
        for line in handle:
            match = re.match(r"#define __NR_(\w+)\s+(\d+)", line)
            if match:
                numbers[int(match.group(2))] = match.group(1)
    numbers.update(newer)
    return numbers


def tracefs_arguments(name):
    path = os.path.join(TRACEFS, f"sys_enter_{TRACEFS_ALIASES.get(name, name)}", "format")
    if not os.path.exists(path):
        return None
    arguments = []
    with open(path) as handle:
        for line in handle:
            match = re.match(r"\s*field:(.+?);\s*offset:(\d+);", line)
            if not match or int(match.group(2)) < 16:  # common fields and __syscall_nr
                continue
            declaration = match.group(1).strip()
            field = re.match(r"(.*?)\s*\b(\w+)$", declaration)
            arguments.append((field.group(2), field.group(1).strip()))
    return arguments


def i386_base(name):
    """The native name whose signature an i386 variant shares (chown32 -> chown)."""
    for suffix in ("_time64", "_time32", "32", "64"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)].rstrip("_")
    return None


def signature(name, compat):
    if name in SIGNATURES and (compat or tracefs_arguments(name) is None):
        return SIGNATURES[name]
    found = tracefs_arguments(name)
    if found is not None:
        return found
    if name in UNIMPLEMENTED:
        return []
    if compat:
        base = i386_base(name)
        if base:
            found = tracefs_arguments(base)
            if found is not None:
                return found
            if base in SIGNATURES:
                return SIGNATURES[base]
    sys.exit(f"no signature for {'i386' if compat else 'x86_64'} syscall {name}: add it to SIGNATURES")


def swift_entries(numbers, compat):
    lines = []
    for number in sorted(numbers):
        name = numbers[number]
        arguments = signature(name, compat)
        names = ", ".join(f'"{n}"' for n, _ in arguments)
        types = ", ".join(f'"{t}"' for _, t in arguments)
        lines.append(f'        .init({number}, "{name}", [{names}], [{types}]),')
    return "\n".join(lines)


def main():
    if not os.path.isdir(TRACEFS):
        sys.exit(f"{TRACEFS} is missing: mount tracefs (mount -t tracefs tracefs /sys/kernel/tracing)")
    x86_64 = read_numbers(f"{HEADERS}/unistd_64.h", NEWER_64)
    i386 = read_numbers(f"{HEADERS}/unistd_32.h", NEWER_32)
    release = os.uname().release
    text = f"""// Generated by scripts/gen-syscall-table.py on kernel {release}. DO NOT EDIT.
// Numbers: the kernel's UAPI headers plus newer syscall table entries; arguments: tracefs.

extension SyscallTable {{
    /// Every x86_64 syscall, by number.
    static let x86_64Signatures: [SyscallSignature] = [
{swift_entries(x86_64, compat=False)}
    ]

    /// Every i386 syscall (what a 32-bit task calls on an x86_64 kernel), by number.
    static let i386Signatures: [SyscallSignature] = [
{swift_entries(i386, compat=True)}
    ]
}}
"""
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with open(OUTPUT, "w") as handle:
        handle.write(text)
    print(f"wrote {OUTPUT}: {len(x86_64)} x86_64 and {len(i386)} i386 syscalls")


if __name__ == "__main__":
    main()
