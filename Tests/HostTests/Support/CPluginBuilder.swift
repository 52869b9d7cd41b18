import Foundation

/// Compiles C task plugins for tests with the system C compiler, against the ABI header.
enum CPluginBuilder {
    static let header = TestSupport.packageRoot.appending(path: "Sources/TaskABI/include")
    static let fixture = TestSupport.packageRoot.appending(path: "Tests/HostTests/Fixtures/configurable_task.c")

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
