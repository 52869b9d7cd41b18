/// A directive the session is running: its parsed condition, its task instances, and the bit
/// that stands for it in the kernel's masks.
final class ActiveDirective: @unchecked Sendable {
    let id: String
    let slot: Int
    let conditionText: String
    let condition: Condition
    let instances: [(instance: TaskInstance, functions: FunctionSet)]
    let syscalls: Set<Int>

    init(id: String, slot: Int, conditionText: String, condition: Condition, instances: [TaskInstance]) {
        self.id = id
        self.slot = slot
        self.conditionText = conditionText
        self.condition = condition
        self.instances = instances.map { ($0, FunctionSet($0.hookedFunctions)) }
        syscalls = Set(instances.flatMap(\.hookedFunctions).map { Int($0) })
    }

    var bit: UInt64 { 1 << UInt64(slot) }

    var summary: DirectiveSummary {
        DirectiveSummary(
            id: id, conditions: conditionText, tasks: instances.map(\.instance.task.name),
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
