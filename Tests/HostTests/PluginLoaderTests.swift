import Foundation
import Host
import Testing

@Suite("Loading task plugins")
struct PluginLoaderTests {
    @Test("Every bad plugin is refused with its own reason while the good one loads")
    func badPluginsAreRefusedWhileGoodOnesLoad() throws {
        let directory = try TestSupport.temporaryDirectory("plugins")
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = try CPluginBuilder.buildFixture("good", defines: [#"TASK_NAME="good""#], in: directory)
        let cases: [(file: String, defines: [String], reason: String)] = [
            ("no-entry", ["NO_ENTRY"], "no entry symbol tawon_task_entry (is it exported and public?)"),
            ("major", ["MAJOR_DELTA=1"],
             "built for task ABI 2.2.0 but this host speaks 1.2.0: major versions differ;"
                + " rebuild it against tawon_task.h 1.x"),
            ("minor", ["MINOR_DELTA=1"], "needs task ABI 1.3 or newer but this host speaks 1.2 (1.2.0); upgrade tawon"),
            ("null-name", ["NULL_NAME"], "registered a NULL task name"),
            ("empty-name", [#"TASK_NAME="""#], "registered an empty task name"),
            ("taken", [#"TASK_NAME="good""#], "task name 'good' is already taken by \(good)"),
            ("bad-set", ["BAD_CAPABILITY_SET"],
             "capability set 'CLOSING' names unregistered function 'no_such_function'"),
            ("bad-type", ["BAD_FIELD_TYPE"],
             "output field 'fixture.value' has unknown type 'float128' (known: bool, bytes, double,"
                + " int32, int64, list, map, string, timestamp, uint32, uint64)"),
        ]
        var expected: [PluginRefusal] = []
        for item in cases {
            let path = try CPluginBuilder.buildFixture(item.file, defines: item.defines, in: directory)
            expected.append(PluginRefusal(path: path, reason: item.reason))
        }
        let text = directory.appending(path: "libtawon-task-text.so").path
        try "#!/bin/sh\necho not a library\n".write(toFile: text, atomically: true, encoding: .utf8)
        expected.append(PluginRefusal(path: text, reason: "not an ELF shared object"))

        let catalog = PluginLoader(searchPath: PluginSearchPath(entries: [directory.path])).loadAll()

        #expect(catalog.tasks.map(\.name) == ["good"])
        #expect(Set(catalog.refusals.map(\.path)) == Set(expected.map(\.path)))
        for refusal in expected {
            #expect(catalog.refusals.first { $0.path == refusal.path } == refusal)
        }
    }

    @Test("A plugin file writable by others is refused when running as root")
    func writableFileIsRefused() throws {
        let directory = try TestSupport.temporaryDirectory("writable")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try CPluginBuilder.buildFixture("writable", in: directory)
        chmod(path, 0o666)

        let loader = PluginLoader(searchPath: PluginSearchPath(entries: [path]), trust: .requireRootOwned)
        let catalog = loader.loadAll()

        #expect(catalog.tasks.isEmpty)
        #expect(catalog.refusals == [
            PluginRefusal(
                path: path,
                reason: "file \(path) is writable by others (mode 0666); refusing to run its code as root")
        ])
    }

    @Test("A plugin file or directory not owned by root is refused when running as root")
    func foreignOwnerIsRefused() throws {
        try #require(geteuid() == 0, "changing a file's owner needs root")
        let directory = try TestSupport.temporaryDirectory("owner")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try CPluginBuilder.buildFixture("foreign", in: directory)
        chown(path, 65534, 65534)

        let refusals = PluginLoader(searchPath: PluginSearchPath(entries: [path])).loadAll().refusals

        #expect(refusals.map(\.reason) == [
            "file \(path) is owned by uid 65534, not root; refusing to run its code as root"
        ])
        chown(path, 0, 0)
        chown(directory.path, 65534, 65534)
        let again = PluginLoader(searchPath: PluginSearchPath(entries: [path])).loadAll().refusals
        #expect(again.map(\.reason) == [
            "directory \(directory.path) is owned by uid 65534, not root; refusing to run its code as root"
        ])
    }

    @Test("The search path lists plugin files once each, in priority order")
    func searchPathOrderAndDeduplication() throws {
        let first = try TestSupport.temporaryDirectory("first")
        let second = try TestSupport.temporaryDirectory("second")
        defer {
            try? FileManager.default.removeItem(at: first)
            try? FileManager.default.removeItem(at: second)
        }
        let a = try CPluginBuilder.buildFixture("a", in: first)
        let b = try CPluginBuilder.buildFixture("b", in: second)
        try "".write(toFile: second.appending(path: "libother.so").path, atomically: true, encoding: .utf8)

        let path = PluginSearchPath(entries: [first.path, second.path, first.path, a, "/nonexistent"])

        #expect(path.candidateFiles() == [a, b])
    }

    @Test("TAWON_TASK_PATH entries come after the executable's and configured directories")
    func standardSearchPath() {
        let path = PluginSearchPath.standard(
            configuredDirectories: ["/etc/tawon/tasks"], environment: ["TAWON_TASK_PATH": "/x:/y/libtawon-task-z.so"])
        #expect(Array(path.entries.dropFirst()) == ["/etc/tawon/tasks", "/x", "/y/libtawon-task-z.so"])
        #expect(path.entries.first == TestSupport.productsDirectory.path)
    }
}
