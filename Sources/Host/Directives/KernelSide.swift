import SyscallTable

/// The syscalls program and its reader, and how directives map onto its masks.
final class KernelSide {
    let program: SyscallsProgram
    let reader: RingBufferReader

    init(configuration: SyscallsProgram.Configuration, onRecord: @escaping RingBufferReader.RecordHandler) throws {
        program = try SyscallsProgram(configuration: configuration)
        reader = try RingBufferReader(mapDescriptor: program.eventsMap, onRecord: onRecord)
    }

    func close() {
        reader.close()
        program.close()
    }

    /// Hooks the directive's syscalls (native and i386 numbers) and marks it active.
    func install(_ directive: ActiveDirective, all: [ActiveDirective]) throws {
        try program.setActiveDirectives(all.reduce(0) { $0 | $1.bit })
        try updateHooks(for: directive.syscalls, all: all)
    }

    /// Unhooks what only the directive needed and clears its bit from every process.
    func uninstall(_ directive: ActiveDirective, remaining: [ActiveDirective]) throws {
        try program.setActiveDirectives(remaining.reduce(0) { $0 | $1.bit })
        try updateHooks(for: directive.syscalls, all: remaining)
        for (tgid, mask) in program.watchedProcesses() where mask & directive.bit != 0 {
            try program.watch(tgid: tgid, directives: mask & ~directive.bit)
        }
    }

    private func updateHooks(for syscalls: Set<Int>, all: [ActiveDirective]) throws {
        for number in syscalls {
            let mask = all.filter { $0.syscalls.contains(number) }.reduce(UInt64(0)) { $0 | $1.bit }
            guard let signature = SyscallTable.signature(number: number) else { continue }
            try program.hook(syscall: number, compat: false, directives: mask)
            try program.setCapturePlan(syscall: number, compat: false, plan: .plan(for: signature))
            for compat in SyscallTable.all(.i386) where compat.name == signature.name {
                try program.hook(syscall: compat.number, compat: true, directives: mask)
                try program.setCapturePlan(syscall: compat.number, compat: true, plan: .plan(for: compat))
            }
        }
    }
}
