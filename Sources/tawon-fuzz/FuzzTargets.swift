import Foundation
import Host

/// Fuzz targets for what users hand tawon: conditions (`-c`), task specs (`-t`), tawond's YAML
/// configuration, and control API request bodies. Each must answer every input with a value or
/// a one-line error, never a crash or a multi-line message.
///
/// Built with TAWON_FUZZ=1 (scripts/fuzz.sh) it is a libFuzzer binary; the target is chosen by
/// TAWON_FUZZ_TARGET. Built plainly it replays files: `tawon-fuzz TARGET FILE...`.
enum FuzzTarget: String, CaseIterable {
    case conditions, tasks, config, api

    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["TAWON_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("TAWON_FUZZ_TARGET must be one of \(allCases.map(\.rawValue))\n".utf8))
            exit(2)
        }
        return target
    }()

    func run(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        switch self {
        case .conditions:
            expectOneLine { _ = try ConditionParser.parse(text) }
        case .tasks:
            expectOneLine { _ = try TaskSpec.parse(text) }
        case .config:
            expectOneLine { _ = try DaemonConfiguration.parse(text, source: "fuzz.yaml") }
        case .api:
            // As POST /v1/directives reads a body, then the parsing a create does before the pipeline.
            guard let creation = try? JSONDecoder().decode(DirectiveCreation.self, from: data) else { return }
            expectOneLine { _ = try ConditionParser.parse(creation.conditions) }
            for task in creation.tasks.prefix(64) { expectOneLine { _ = try TaskSpec.parse(task) } }
            expectOneLine { _ = try HealthTimeout.parse(text: text) }
        }
    }

    /// Refusals are one line: a user sees them in a terminal or an HTTP 400 body.
    private func expectOneLine(_ body: () throws -> Void) {
        do { try body() } catch {
            let message = "\(error)"
            // fatalError, not precondition: an optimized build keeps only its message.
            if message.isEmpty || message.contains(where: \.isNewline) {
                fatalError("\(rawValue): not one line: \(message.debugDescription)")
            }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    FuzzTarget.selected.run(Data(bytes: data, count: size))
    return 0
}

/// libFuzzer's driver, run from main: SwiftPM names an executable's entry point itself.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@main
struct FuzzMain {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        _ = FuzzTarget.selected
        exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
        #else
        replay(CommandLine.arguments.dropFirst())
        #endif
    }

    /// Replays inputs (a corpus, a crash libFuzzer saved) through one target.
    static func replay(_ arguments: ArraySlice<String>) {
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: tawon-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE...")
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("tawon-fuzz: cannot read \(path)")
                exit(1)
            }
            target.run(data)
        }
        print("\(arguments.count - 1) inputs, no failure")
    }
}
