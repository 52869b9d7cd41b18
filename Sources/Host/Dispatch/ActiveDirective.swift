import SyscallTable

/// A directive the dispatcher is running: its parsed condition, its task instances with what
/// each asked for, and the bit that stands for it in the kernel's masks. Made once every
/// instance has started (what an instance asks for is fixed then).
final class ActiveDirective: @unchecked Sendable {
    /// One task instance and the events it asked for. A class: the event path walks the
    /// entries for every record, and a struct of six references cost six retains a step.
    final class Entry {
        let instance: TaskInstance
        /// Syscall functions hooked at entry, by registered id.
        let functions: FunctionSet
        /// Syscall functions wanted as whole calls (at their return).
        let calls: FunctionSet
        /// How to decode each hooked function: the kernel's syscall with the argument names and
        /// types the task registered, and the name it registered.
        let signatures: [UInt64: (name: String, signature: SyscallSignature)]
        /// `signatures` of the syscall ids (below 1024), indexed by id: looked up for every event,
        /// where hashing the id cost more than the rest of the look-up.
        private let syscallSignatures: [(name: String, signature: SyscallSignature)?]
        let processEvents: Set<ProcessEventKind>
        let containerEvents: Set<ContainerEventKind>

        init(
            instance: TaskInstance, functions: FunctionSet, calls: FunctionSet,
            signatures: [UInt64: (name: String, signature: SyscallSignature)],
            processEvents: Set<ProcessEventKind>, containerEvents: Set<ContainerEventKind>
        ) {
            self.instance = instance
            self.functions = functions
            self.calls = calls
            self.signatures = signatures
            let syscallIDs = signatures.keys.filter { $0 < 1024 }
            var table = [(name: String, signature: SyscallSignature)?](repeating: nil, count: Int(syscallIDs.max().map { $0 + 1 } ?? 0))
            for id in syscallIDs { table[Int(id)] = signatures[id] }
            syscallSignatures = table
            self.processEvents = processEvents
            self.containerEvents = containerEvents
        }

        /// How to decode function `id`, if the instance hooked it or wants its calls.
        func signature(of id: UInt64) -> (name: String, signature: SyscallSignature)? {
            id < UInt64(syscallSignatures.count) ? syscallSignatures[Int(id)] : signatures[id]
        }
    }

    let id: String
    let slot: Int
    let conditionText: String
    let condition: Condition
    /// The condition tests what container runtimes say: a process whose container they have not
    /// described yet cannot be decided.
    let needsRuntimeFacts: Bool
    let entries: [Entry]
    /// Syscall functions (by ID) some instance hooked or wants whole, each checked against the
    /// table when asked for.
    let syscalls: Set<Int>
    /// Syscall functions some instance hooked: reported at entry.
    let entrySyscalls: Set<Int>
    /// Syscall functions some instance wants whole: reported when they return.
    let exitSyscalls: Set<Int>
    /// Container events some instance subscribed to.
    let containerEvents: Set<ContainerEventKind>

    init(id: String, slot: Int, conditionText: String, condition: Condition, instances: [TaskInstance]) {
        self.id = id
        self.slot = slot
        self.conditionText = conditionText
        self.condition = condition
        needsRuntimeFacts = condition.fields.contains { $0.isRuntimeFact }
        entries = instances.map { instance in
            let hooked = instance.hookedFunctions
            let calls = instance.wholeCalls
            return Entry(
                instance: instance, functions: FunctionSet(hooked), calls: FunctionSet(calls),
                signatures: Self.signatures(of: hooked + calls, registeredBy: instance.task.description),
                processEvents: instance.processEvents, containerEvents: instance.containerEvents)
        }
        containerEvents = entries.reduce(into: []) { $0.formUnion($1.containerEvents) }
        syscalls = Set(entries.flatMap { $0.signatures.keys.map { Int($0) } })
        entrySyscalls = Set(instances.flatMap(\.hookedFunctions).filter { $0 < UInt64(Int.max) }.map { Int($0) })
        exitSyscalls = Set(instances.flatMap(\.wholeCalls).filter { $0 < UInt64(Int.max) }.map { Int($0) })
    }

    var bit: UInt64 { 1 << UInt64(slot) }

    /// Whether some instance wants this function's calls whole.
    func wantsWholeCalls(of functionID: UInt64) -> Bool {
        entries.contains { $0.calls.contains(functionID) }
    }

    /// Whether some instance subscribed to this process event.
    func wants(_ event: ProcessEventKind) -> Bool {
        entries.contains { $0.processEvents.contains(event) }
    }

    /// Whether some instance subscribed to this container event.
    func wants(_ event: ContainerEventKind) -> Bool { containerEvents.contains(event) }

    var summary: DirectiveSummary {
        DirectiveSummary(
            id: id, conditions: conditionText, tasks: entries.map(\.instance.task.name),
            functions: syscalls.sorted())
    }

    /// Whether the condition holds: nil capabilities mean "not known" (deciding the kernel mask).
    func selects(_ process: ProcessSnapshot, capabilities: CapabilitySets?) -> Bool? {
        ConditionEvaluator.evaluate(condition, process: process, capabilities: capabilities)
    }

    /// The event path's last answer: a process's syscalls come in runs with the same snapshot
    /// and capabilities, and evaluating the condition for each one (`process.pid` is matched as
    /// text, so the pid became a string per record) is wasted work. Only the polling thread
    /// touches it.
    private var lastDecision: (generation: UInt64, capabilities: CapabilitySets, selected: Bool)?

    /// Whether a syscall of the process whose cached snapshot has `generation` (0: none cached)
    /// is selected; `process` gives the snapshot when the answer is not remembered.
    func selectsEvent(
        generation: UInt64, capabilities: CapabilitySets, process: () -> ProcessSnapshot
    ) -> Bool {
        if generation != 0, let last = lastDecision, last.generation == generation,
            last.capabilities == capabilities {
            return last.selected
        }
        let snapshot = process()
        let selected = selects(snapshot, capabilities: capabilities) == true
        // Remembered only for the generation actually evaluated (the cache may have moved on).
        if snapshot.generation != 0 && snapshot.generation == generation {
            lastDecision = (generation, capabilities, selected)
        }
        return selected
    }

    /// The registered metadata of each hooked syscall (hooking checked that the id is one).
    private static func signatures(
        of hooked: [UInt64], registeredBy task: TaskDescription
    ) -> [UInt64: (name: String, signature: SyscallSignature)] {
        var result: [UInt64: (name: String, signature: SyscallSignature)] = [:]
        for id in hooked {
            guard let kernel = SyscallTable.function(id: id),
                let registered = task.functions.first(where: { $0.id == id })
            else { continue }
            result[id] = (
                registered.name,
                SyscallSignature(
                    number: kernel.number, name: kernel.name,
                    argumentNames: registered.arguments.map(\.name), argumentTypes: registered.arguments.map(\.type))
            )
        }
        return result
    }
}

/// The functions an instance hooked: syscall numbers in a bitmap, any other ID in a set. Looked
/// up for every event.
struct FunctionSet {
    private static let bitmapLimit: UInt64 = 1024
    private var bitmap = [UInt64](repeating: 0, count: Int(FunctionSet.bitmapLimit / 64))
    private var others: Set<UInt64> = []

    init(_ ids: some Sequence<UInt64>) {
        for id in ids {
            if id < Self.bitmapLimit { bitmap[Int(id >> 6)] |= 1 << (id & 63) } else { others.insert(id) }
        }
    }

    func contains(_ id: UInt64) -> Bool {
        id < Self.bitmapLimit ? bitmap[Int(id >> 6)] & (1 << (id & 63)) != 0 : others.contains(id)
    }
}
