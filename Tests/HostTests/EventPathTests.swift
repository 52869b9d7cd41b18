import Foundation
import Testing

@testable import Host

@Suite("Event path: remembered decisions, hooked functions")
struct EventPathTests {
    static func directive(_ condition: String) throws -> ActiveDirective {
        ActiveDirective(
            id: "d", slot: 0, conditionText: condition, condition: try ConditionParser.parse(condition), instances: [])
    }

    static func process(name: String, generation: UInt64) -> ProcessSnapshot {
        var process = ProcessSnapshot(pid: 7, ppid: 1, name: name, cmd: "", exe: "", ns: "", startedAtNanoseconds: 0)
        process.generation = generation
        return process
    }

    static let netRaw = CapabilitySets(inheritable: 0, permitted: 1 << 13, effective: 1 << 13, bounding: ~0, ambient: 0)
    static let none = CapabilitySets(inheritable: 0, permitted: 0, effective: 0, bounding: ~0, ambient: 0)

    @Test("A decision is reused only for the same snapshot generation and the same capabilities")
    func rememberedDecision() throws {
        let directive = try Self.directive("process.name:curl AND process.capeff:CAP_NET_RAW")
        var looked = 0
        func selects(_ generation: UInt64, _ caps: CapabilitySets, as name: String) -> Bool {
            directive.selectsEvent(generation: generation, capabilities: caps) {
                looked += 1
                return Self.process(name: name, generation: generation)
            }
        }
        #expect(selects(5, Self.netRaw, as: "curl"))
        #expect(selects(5, Self.netRaw, as: "curl"))
        #expect(looked == 1)  // the second answer was remembered
        #expect(!selects(5, Self.none, as: "curl"))  // capabilities dropped: evaluated again
        #expect(looked == 2)
        #expect(!selects(6, Self.netRaw, as: "wget"))  // exec'd: a new generation, a new answer
        #expect(looked == 3)
        // Generation 0 is an unknown process: never remembered.
        #expect(selects(0, Self.netRaw, as: "curl"))
        #expect(selects(0, Self.netRaw, as: "curl"))
        #expect(looked == 5)
    }

    @Test("A snapshot newer than the generation asked about is not remembered under the old one")
    func movedOnSnapshot() throws {
        let directive = try Self.directive("process.name:curl")
        #expect(!directive.selectsEvent(generation: 3, capabilities: Self.none) {
            Self.process(name: "wget", generation: 4)
        })
        #expect(directive.selectsEvent(generation: 3, capabilities: Self.none) {
            Self.process(name: "curl", generation: 3)
        })
    }

    @Test("Hooked functions: syscall numbers and IDs beyond the bitmap", arguments: [
        [UInt64](), [0, 63, 64, 110, 1023], [1024, 5000, UInt64.max], [0, 1023, 1024, 1 << 40],
    ])
    func functionSet(ids: [UInt64]) {
        let set = FunctionSet(ids)
        for probe in Set(ids + [0, 1, 62, 63, 64, 65, 110, 1022, 1023, 1024, 1025, 5000, 1 << 40, UInt64.max]) {
            #expect(set.contains(probe) == ids.contains(probe), "id \(probe)")
        }
    }
}
