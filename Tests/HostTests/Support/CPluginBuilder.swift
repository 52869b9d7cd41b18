import Foundation

/// Compiles C task plugins for tests with the system C compiler, against the ABI header.
enum CPluginBuilder {
    static let header = TestSupport.packageRoot.appending(path: "Sources/TaskABI/include")
    static let fixture = TestSupport.packageRoot.appending(path: "Tests/HostTests/Fixtures/configurable_task.c")

    /// Builds a plugin from one C file in Fixtures/ against the header in `include` (today's,
    /// unless given) into `directory/libtawon-task-<file>.so`.
    static func build(
        _ fixture: String, as file: String, include: URL = header, in directory: URL
    ) throws -> String {
        let output = directory.appending(path: "libtawon-task-\(file).so").path
        let source = TestSupport.packageRoot.appending(path: "Tests/HostTests/Fixtures/\(fixture)").path
        let result = try TestSupport.run(
            "/usr/bin/env",
            ["cc", "-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Werror", "-I", include.path, "-o", output, source])
        guard result.status == 0 else { throw TestFailure("cc \(fixture) failed: \(result.stderr)") }
        return output
    }

    /// Builds the configurable fixture with `defines` into `directory/libtawon-task-<file>.so`.
    static func buildFixture(_ file: String, defines: [String] = [], in directory: URL) throws -> String {
        let output = directory.appending(path: "libtawon-task-\(file).so").path
        let result = try TestSupport.run(
            "/usr/bin/env",
            ["cc", "-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-I", header.path]
                + defines.map { "-D\($0)" } + ["-o", output, fixture.path])
        guard result.status == 0 else { throw TestFailure("cc failed: \(result.stderr)") }
        return output
    }
}
