/// A directive the session is running: its parsed condition, its task instances, and the bit
/// that stands for it in the kernel's masks.
final class ActiveDirective: @unchecked Sendable {
    let id: String
    let slot: Int
    let conditionText: String
    let condition: Condition
    let instances: [(instance: TaskInstance, functions: Set<UInt64>)]
    let syscalls: Set<Int>

    init(id: String, slot: Int, conditionText: String, condition: Condition, instances: [TaskInstance]) {
        self.id = id
        self.slot = slot
        self.conditionText = conditionText
        self.condition = condition
        self.instances = instances.map { ($0, Set($0.hookedFunctions)) }
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
}
