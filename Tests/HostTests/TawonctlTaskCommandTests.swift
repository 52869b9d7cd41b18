import Foundation
import Testing

@Suite("tawonctl task list / describe")
struct TawonctlTaskCommandTests {
    let tawonctl = TestSupport.productsDirectory.appending(path: "tawonctl").path

    @Test("task list shows the built-in tasks with version, function count and file")
    func listShowsBuiltInTasks() throws {
        let result = try TestSupport.run(tawonctl, ["task", "list"], environment: [:])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true)
            == ["NAME", "VERSION", "FUNCTIONS", "FILE"])
        let demo = try #require(lines.first { $0.hasPrefix("demo ") })
        #expect(demo.hasSuffix("/libtawon-task-demo.so"))
        #expect(demo.contains(" 12 "))
        #expect(lines.contains { $0.hasPrefix("syscalls ") && $0.hasSuffix("/libtawon-task-syscalls.so") })
    }

    @Test("task describe syscalls --json is valid JSON holding what the plugin registered")
    func describeJSON() throws {
        let result = try TestSupport.run(tawonctl, ["task", "describe", "syscalls", "--json"], environment: [:])
        #expect(result.status == 0)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let task = try #require(json["task"] as? [String: Any])
        #expect(task["name"] as? String == "syscalls")
        #expect(json["abi"] as? String == "1.2.0")

        let sets = try #require(task["capabilitySets"] as? [[String: Any]])
        let presets = Dictionary(uniqueKeysWithValues: sets.map { ($0["name"] as! String, $0["functions"] as! [String]) })
        #expect(presets == [
            "CAP_NET_RAW": ["socket", "sendto", "recvfrom", "recvmsg", "bind", "setsockopt", "ioctl"],
            "CAP_NET_ADMIN": ["bind", "connect", "listen", "accept", "setsockopt", "getsockopt", "getsockname",
                              "getpeername", "ioctl", "recvfrom"],
            "CAP_IPC_LOCK": ["munlock", "mlockall", "munlockall", "shmget", "shmat", "shmdt", "shmctl", "msgget",
                             "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semctl"],
            "CAP_SYS_PTRACE": ["ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "get_robust_list",
                               "set_robust_list"],
        ])

        let functions = try #require(task["functions"] as? [[String: Any]])
        let write = try #require(functions.first { $0["name"] as? String == "write" })
        #expect(write["id"] as? Int == 1)
        let arguments = try #require(write["arguments"] as? [[String: String]])
        #expect(arguments.map { $0["name"]! } == ["fd", "buf", "count"])

        let options = try #require(task["options"] as? [[String: Any]])
        #expect(options.map { $0["name"] as! String }
            == ["functions", "capabilities", "compact", "entryOnly", "meta", "demo", "demoInterval"])
        let fields = try #require(task["outputFields"] as? [[String: Any]])
        #expect(fields.contains { $0["name"] as? String == "syscall.process.startedAt" })
    }

    @Test("task list shows refused plugins with their reason; describe of an unknown task fails")
    func refusedPluginsAndUnknownTask() throws {
        let directory = try TestSupport.temporaryDirectory("cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let bogus = directory.appending(path: "libtawon-task-bogus.so").path
        try "not a library".write(toFile: bogus, atomically: true, encoding: .utf8)

        let list = try TestSupport.run(tawonctl, ["task", "list", "--json"], environment: ["TAWON_TASK_PATH": bogus])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
        let refused = try #require(json["refused"] as? [[String: String]])
        #expect(refused == [["path": bogus, "reason": "not an ELF shared object"]])
        #expect((json["tasks"] as? [[String: Any]])?.count == 3)

        let table = try TestSupport.run(tawonctl, ["task", "list", "--task-dir", directory.path], environment: [:])
        #expect(table.stdout.contains("REFUSED"))
        #expect(table.stdout.contains("\(bogus)  not an ELF shared object"))

        let unknown = try TestSupport.run(tawonctl, ["task", "describe", "nope"], environment: [:])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no task named 'nope' (loaded: containers, demo, syscalls)"))
    }
}
