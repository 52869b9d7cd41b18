import Foundation
import Host
import Synchronization
import Testing

/// The containers task against real podman containers: one running before the directive
/// starts, one started and stopped while it runs, and a twin the condition leaves out.
@Suite("Container lifecycle (kernel, podman)", .serialized)
struct ContainerLifecycleKernelTests {
    typealias Support = ContainerKernelTests

    /// One record of the containers task.
    struct LifecycleRecord {
        var event: String
        var arguments: [(name: String, value: Any)]
        var process: [String: Any]?

        init?(_ json: String) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                let event = object["event"] as? String, let arguments = object["args"] as? [[String: Any]]
            else { return nil }
            self.event = event
            self.arguments = arguments.map { ($0["name"] as? String ?? "", $0["value"] as Any) }
            process = object["process"] as? [String: Any]
        }

        subscript(_ name: String) -> Any? { arguments.first { $0.name == name }?.value }
        func text(_ name: String) -> String? { self[name] as? String }
    }

    @Test("existing_container, container_create and container_remove as podman inspect describes them; the twin is left out; init_namespaces as the kernel numbers them; the cgroup programs attached only meanwhile")
    func lifecycle() throws {
        try KernelSupport.require()
        try Support.requirePodman()
        try Support.ensureImage()
        let service = try ContainerKernelTests.PodmanService()
        defer { service.stop() }
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let script = "sleep 30"
        let existing = try Support.runDetached(
            Support.runOptions + ["--name", "lc-\(suffix)-old", "--label", "tier=lc", Support.image, "/bin/sh", "-c", script])
        let twin = try Support.runDetached(Support.runOptions + ["--name", "twin-\(suffix)", Support.image, "/bin/sh", "-c", script])
        defer { _ = try? TestSupport.run("/usr/bin/podman", ["rm", "-f", "-t", "0", existing, twin]) }

        let tracer = CollectingSession(containerSockets: [service.socket])
        // Nobody asks for containers' creation yet: the cgroup programs are loaded, not attached.
        let syscallsOnly = try tracer.session.add(DirectiveRequest(
            conditions: "container.name:lc-\(suffix)-*", tasks: [try TaskSpec.parse("syscalls|functions:write")]))
        let cgroupPrograms = Set(try tracer.session.loadedProgramIDs().map(Int.init)).intersection(try LoadedPrograms.ids(named: "cgroups_"))
        #expect(cgroupPrograms.count == 2)
        #expect(try LoadedPrograms.attachedIDs().isDisjoint(with: cgroupPrograms))
        let byName = try tracer.session.add(DirectiveRequest(
            conditions: "container.name:lc-\(suffix)-*", tasks: [try TaskSpec.parse("containers")]))
        let initOnly = try tracer.session.add(DirectiveRequest(
            conditions: "process.pid:1", tasks: [try TaskSpec.parse("containers|events:init_namespaces")]))
        #expect(try LoadedPrograms.attachedIDs().isSuperset(of: cgroupPrograms))
        let stop = Atomic<Bool>(false)
        let polling = Thread { [session = tracer.session] in
            while !stop.load(ordering: .relaxed) { _ = try? session.poll(timeoutMilliseconds: 20) }
        }
        polling.start()
        let before = UInt64(Date().timeIntervalSince1970 * 1e9)
        let result = try TestSupport.run("/usr/bin/podman", ["run", "--rm"] + Support.runOptions + [
            "--name", "lc-\(suffix)-new", "--label", "tier=lc", Support.image, "/bin/sh", "-c", "sleep 0.5",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        func records(_ directive: DirectiveSummary) -> [LifecycleRecord] {
            tracer.collector.all.filter { $0.directiveID == directive.id }.compactMap { LifecycleRecord($0.json) }
        }
        let deadline = ContinuousClock.now + .seconds(8)
        while ContinuousClock.now < deadline, !records(byName).contains(where: { $0.event == "container_remove" }) {
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop.store(true, ordering: .relaxed)
        while !polling.isFinished { Thread.sleep(forTimeInterval: 0.02) }
        tracer.session.remove(byName.id)
        tracer.session.remove(initOnly.id)
        #expect(try LoadedPrograms.attachedIDs().isDisjoint(with: cgroupPrograms), "detached when no directive wants them")
        tracer.session.remove(syscallsOnly.id)
        tracer.session.close()

        let selected = records(byName)
        let inspected = try TestSupport.run(
            "/usr/bin/podman", ["inspect", "--format", "{{.ImageName}}", existing]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let old = selected.filter { $0.event == "existing_container" }
        #expect(old.count == 1, "\(selected.map(\.event))")
        #expect(old.first?.text("container_id") == existing)
        #expect(old.first?.text("container_name") == "/lc-\(suffix)-old")
        #expect(old.first?.text("container_image") == inspected)
        #expect(old.first?.text("runtime") == "podman")
        #expect(((old.first?["ctime"] as? NSNumber)?.uint64Value ?? 0) < before)

        let created = selected.filter { $0.event == "container_create" }
        #expect(created.count == 1, "\(selected.map(\.event))")
        let newID = created.first?.text("container_id") ?? ""
        #expect(newID.count == 64)
        #expect(created.first?.text("container_name") == "/lc-\(suffix)-new")
        #expect(created.first?.text("container_image") == inspected)
        #expect(((created.first?["ctime"] as? NSNumber)?.uint64Value ?? 0) >= before)
        #expect(created.first?.process?["pid"] != nil, "the runtime's process that made the cgroup")
        let removed = selected.filter { $0.event == "container_remove" }
        #expect(removed.map { $0.text("container_id") } == [newID])
        #expect(removed.first?.arguments.map(\.name) == ["runtime", "container_id"])
        #expect(!selected.contains { $0.text("container_id") == twin }, "the twin's name does not match")
        #expect(!selected.contains { $0.event == "init_namespaces" }, "pid 1 is in no container")

        let namespaces = records(initOnly)
        #expect(namespaces.map(\.event) == ["init_namespaces"])
        #expect(namespaces.first?.arguments.map(\.name) == [
            "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts",
        ])
        // The kernel numbers most initial namespaces with fixed constants (include/linux/proc_ns.h).
        let fixed: [String: UInt64] = [
            "ipc": 0xEFFF_FFFF, "uts": 0xEFFF_FFFE, "user": 0xEFFF_FFFD, "pid": 0xEFFF_FFFC, "pid_for_children": 0xEFFF_FFFC,
            "cgroup": 0xEFFF_FFFB, "time": 0xEFFF_FFFA, "time_for_children": 0xEFFF_FFFA,
        ]
        for (name, inode) in fixed {
            #expect((namespaces.first?[name] as? NSNumber)?.uint64Value == inode, "\(name)")
        }
        // mnt and net are numbered as they are made: pid 1's (or, where pid 1 cannot be
        // inspected here, the kernel threads').
        for name in ["mnt", "net"] {
            let link = ["1", "2"].lazy.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/ns/\(name)") }.first
            #expect(link == "\(name):[\((namespaces.first?[name] as? NSNumber)?.uint64Value ?? 0)]")
        }
    }

    @Test("What a directive attaches is what it asked for: init_namespaces alone attaches nothing at sys_enter; a syscall does")
    func attachesOnlyWhatIsAsked() throws {
        try KernelSupport.require()
        let tracer = CollectingSession(containerSockets: [])
        let namespaces = try tracer.session.add(DirectiveRequest(
            conditions: "process.pid:1", tasks: [try TaskSpec.parse("containers|events:init_namespaces")]))
        let loaded = Set(try tracer.session.loadedProgramIDs().map(Int.init))
        let syscallPrograms = loaded.intersection(try LoadedPrograms.ids(named: "syscalls_"))
        let cgroupPrograms = loaded.intersection(try LoadedPrograms.ids(named: "cgroups_"))
        #expect(syscallPrograms.count == 4 && cgroupPrograms.count == 2)
        #expect(try LoadedPrograms.attachedIDs().isDisjoint(with: syscallPrograms.union(cgroupPrograms)))
        let writes = try tracer.session.add(DirectiveRequest(
            conditions: "process.pid:1", tasks: [try TaskSpec.parse("syscalls|functions:write;entryOnly:true")]))
        #expect(try LoadedPrograms.attachedIDs().intersection(syscallPrograms).count == 1, "sys_enter, not sys_exit")
        tracer.session.remove(writes.id)
        #expect(try LoadedPrograms.attachedIDs().isDisjoint(with: syscallPrograms))
        // Whole calls: one program per syscall (sys_exit), none at sys_enter.
        let wholeWrites = try tracer.session.add(DirectiveRequest(
            conditions: "process.pid:1", tasks: [try TaskSpec.parse("syscalls|functions:write")]))
        let attached = try LoadedPrograms.attachedIDs().intersection(syscallPrograms)
        #expect(attached.count == 3, "sys_exit, sched_switch, sched_prepare_exec")
        #expect(try attached.isDisjoint(with: LoadedPrograms.ids(named: "syscalls_sys_en")))
        tracer.session.remove(wholeWrites.id)
        #expect(try LoadedPrograms.attachedIDs().isDisjoint(with: syscallPrograms))
        tracer.session.remove(namespaces.id)
        tracer.session.close()
    }

    @Test("containers task options: an unknown event is refused with the known ones named; nothing is left running")
    func badOptions() throws {
        try KernelSupport.require()
        let tracer = CollectingSession(containerSockets: [])
        for bad in ["containers|events:", "containers|events:container_create+bogus", "containers|events:container_create++container_remove", "containers|events:ALLL"] {
            #expect {
                try tracer.session.add(DirectiveRequest(conditions: "process.pid:1", tasks: [try TaskSpec.parse(bad)]))
            } throws: { error in
                "\(error)".contains("events: unknown event") && "\(error)".contains("container_remove") && !"\(error)".contains("\n")
            }
        }
        #expect(tracer.session.summaries.isEmpty)
        tracer.session.close()
    }
}

/// The same against dockerd (Debian's docker.io), its API on a private socket.
@Suite("Containers (kernel, dockerd)", .serialized)
struct DockerKernelTests {
    @Test("dockerd: container.name (with and without '/') and container.label select a container, not its twin; events carry its name; container_create and container_remove as docker inspect describes them")
    func namesLabelsAndLifecycle() throws {
        try KernelSupport.require()
        let docker = try DockerService()
        defer { docker.stop() }
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let script = "i=0; while [ $i -lt 40 ]; do echo tick > /dev/null; i=$((i+1)); sleep 0.1; done"
        let named = try docker.runDetached(
            ["--name", "dk-\(suffix)", "--label", "tier=dkprod-\(suffix)", DockerService.image, "/bin/sh", "-c", script])
        let twin = try docker.runDetached(
            ["--name", "dktwin-\(suffix)", "--label", "tier=other-\(suffix)", DockerService.image, "/bin/sh", "-c", script])

        let tracer = CollectingSession(containerSockets: ["docker:" + docker.socket])
        let conditions = [
            "container.name:dk-\(suffix)", "container.name:/dk-\(suffix)", "container.label:tier=dkprod-\(suffix)",
            "container.label:dkprod-\(suffix)",
        ]
        let directives = try conditions.map {
            try tracer.session.add(DirectiveRequest(conditions: $0, tasks: [try TaskSpec.parse("syscalls|functions:write")]))
        }
        #expect(directives.allSatisfy { $0.warnings.isEmpty }, "\(directives.map(\.warnings))")
        let lifecycle = try tracer.session.add(DirectiveRequest(
            conditions: "container.name:dknew-\(suffix)", tasks: [try TaskSpec.parse("containers|events:container_create+container_remove")]))
        let stop = Atomic<Bool>(false)
        let polling = Thread { [session = tracer.session] in
            while !stop.load(ordering: .relaxed) { _ = try? session.poll(timeoutMilliseconds: 20) }
        }
        polling.start()
        let started = try docker.docker([
            "run", "--rm", "--network", "none", "--name", "dknew-\(suffix)", DockerService.image, "/bin/sh", "-c", "sleep 0.3",
        ])
        #expect(started.status == 0, "\(started.stderr)")
        func calls(_ directive: DirectiveSummary) throws -> [SyscallData] {
            try tracer.collector.all.filter { $0.directiveID == directive.id }
                .map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }
        }
        func events() -> [ContainerLifecycleKernelTests.LifecycleRecord] {
            tracer.collector.all.filter { $0.directiveID == lifecycle.id }.compactMap { ContainerLifecycleKernelTests.LifecycleRecord($0.json) }
        }
        let deadline = ContinuousClock.now + .seconds(8)
        while ContinuousClock.now < deadline,
            try directives.contains(where: { try calls($0).count < 5 }) || !events().contains(where: { $0.event == "container_remove" }) {
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop.store(true, ordering: .relaxed)
        while !polling.isFinished { Thread.sleep(forTimeInterval: 0.02) }
        tracer.session.close()

        for (condition, directive) in zip(conditions, directives) {
            let selected = try calls(directive)
            #expect(selected.count >= 5, "\(condition): \(selected.count) calls")
            #expect(selected.allSatisfy { $0.process?.container == .init(id: named, name: "/dk-\(suffix)") }, "\(condition)")
            #expect(!selected.contains { $0.process?.container?.id == twin }, "\(condition)")
        }
        let seen = events()
        #expect(seen.map(\.event) == ["container_create", "container_remove"])
        #expect(seen.first?.text("runtime") == "docker")
        #expect(seen.first?.text("container_name") == "/dknew-\(suffix)")
        #expect(seen.first?.text("container_image") == DockerService.image)
        #expect(seen.last?.text("container_id") == seen.first?.text("container_id"))
        #expect(seen.first?.text("container_id")?.count == 64)
    }
}
