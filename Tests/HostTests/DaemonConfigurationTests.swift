import Foundation
@testable import Host
import SystemFiles
import Testing

@Suite("tawond's configuration and outputs")
struct DaemonConfigurationTests {
    @Test("A YAML file sets every setting")
    func parses() throws {
        let configuration = try DaemonConfiguration.parse("""
            taskDirectories: [/opt/tawon/tasks]
            socketPath: /run/t/t.sock
            socketGroup: tawon
            ringBufferMegabytes: 64
            bufferLimit: 128
            streamBufferRecords: 100
            logLevel: debug
            outputs:
              - type: stdout
                format: compact
              - type: file
                path: /var/log/tawon/events.jsonl
                maxBytes: 1048576
                maxFiles: 3
            """)
        #expect(configuration.taskDirectories == ["/opt/tawon/tasks"])
        #expect(configuration.socketPath == "/run/t/t.sock")
        #expect(configuration.socketGroup == "tawon")
        #expect(configuration.ringBufferMegabytes == 64)
        #expect(configuration.bufferLimit == 128)
        #expect(configuration.streamBufferRecords == 100)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.outputs == [
            .init(kind: .stdout, format: .compact),
            .init(kind: .file, path: "/var/log/tawon/events.jsonl", maxBytes: 1_048_576, maxFiles: 3),
        ])
        #expect(try DaemonConfiguration.parse("") == DaemonConfiguration())
        #expect(try DaemonConfiguration.parse("~") == DaemonConfiguration())
        #expect(try DaemonConfiguration.parse("null") == DaemonConfiguration())
        #expect(try DaemonConfiguration.parse("ringBufferMegabytes: !!int 32").ringBufferMegabytes == 32)
        #expect(try DaemonConfiguration.parse("ringBufferMegabytes: +8").ringBufferMegabytes == 8)
        // As --container-socket takes them: how to speak to each socket may be said.
        #expect(try DaemonConfiguration.parse("containerSockets: [cri:/run/k.sock, docker:/run/d.sock, /run/p.sock]")
            .containerSockets == ["cri:/run/k.sock", "docker:/run/d.sock", "/run/p.sock"])
        // The longest socket path tawond binds.
        let longest = "/" + String(repeating: "s", count: 102)
        #expect(try DaemonConfiguration.parse("socketPath: \(longest)").socketPath == longest)
    }

    @Test("An unknown key or a bad value is an error that names it", arguments: [
        ("socketpath: /x", "configuration: unknown setting 'socketpath' (known: taskDirectories, socketPath, socketGroup, outputs, ringBufferMegabytes, bufferLimit, streamBufferRecords, callDeadlineMilliseconds, orderWindowMilliseconds, logLevel, containerSockets, containerBundleDirectories)"),
        ("ringBufferMegabytes: 48", "ringBufferMegabytes (--ring-buffer-mb): 48 is not a power of two from 1 to 1024"),
        ("orderWindowMilliseconds: -1", "orderWindowMilliseconds (--order-window-ms): -1 is not from 0 to 1000"),
        ("orderWindowMilliseconds: 1e9", "configuration: orderWindowMilliseconds: expected a number of milliseconds from 0 to 1000, found '1e9'"),
        // Quoted or tagged as text, a number is text.
        ("ringBufferMegabytes: \"16\"", "configuration: ringBufferMegabytes: expected a power of two from 1 to 1024, found '16'"),
        ("ringBufferMegabytes: !!str 16", "configuration: ringBufferMegabytes: expected a power of two from 1 to 1024, found '16'"),
        ("ringBufferMegabytes: 99999999999999999999", "configuration: ringBufferMegabytes: expected a power of two from 1 to 1024, found '99999999999999999999'"),
        ("ringBufferMegabytes: 1:2:3:4:5:6:7:8:9:10:11:12:13:14", "configuration: ringBufferMegabytes: expected a power of two from 1 to 1024, found '1:2:3:4:5:6:7:8:9:10:11:12:13:14'"),
        ("ringBufferMegabytes: ~", "configuration: ringBufferMegabytes: expected a power of two from 1 to 1024, found '<null>'"),
        ("ringBufferMegabytes: lots", "configuration: ringBufferMegabytes: expected a power of two from 1 to 1024, found 'lots'"),
        ("logLevel: loud", "configuration: logLevel: expected one of trace, debug, info, notice, warning, error, critical, found 'loud'"),
        ("containerSockets: [cri:relative.sock]", "configuration: containerSockets: expected a list of absolute socket paths, each may be prefixed cri: or docker:, found '[\"cri:relative.sock\"]'"),
        ("socketPath: relative.sock", "configuration: socketPath: expected an absolute path, found 'relative.sock'"),
        ("outputs:\n  - type: syslog", "configuration: outputs[0]: type: expected stdout or file"),
        ("outputs:\n  - type: file\n    path: /x\n    colour: red", "configuration: outputs[0]: unknown setting 'colour' (known: type, format, path, maxBytes, maxFiles)"),
        ("outputs:\n  - type: file\n    path: relative", "outputs: a file output needs an absolute path, found 'relative'"),
        ("- just a list", "configuration: expected a mapping of settings"),
        ("socketPath: \"/run/t\\0x.sock\"", "configuration: line 1: a value holds a NUL character"),
        ("outputs:\n  - type: file\n    path: /x\n    maxFiles: 1000000000", "outputs: maxFiles: 1000000000 is not from 1 to 1000"),
        ("outputs:\n  - type: file\n    path: /x\n    maxFiles: 0", "outputs: maxFiles: 0 is not from 1 to 1000"),
        ("outputs:\n  - type: file\n    path: /x\n    maxBytes: -1", "outputs: maxBytes: -1 is negative (0: never rotate)"),
        ("socketPath: \"/run/t\\nfake log line.sock\"", "socketPath (--socket): a control character in '/run/t\\x0afake log line.sock'"),
        ("socketPath: /" + String(repeating: "s", count: 103), "socketPath (--socket): 104 bytes, longer than the 103 bytes tawond can bind a Unix socket at"),
    ])
    func problems(text: String, message: String) {
        do {
            _ = try DaemonConfiguration.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test("A YAML error is one short line, its quoted text escaped, however long or strange the file")
    func yamlErrorsAreOneLine() {
        let long = String(repeating: "x", count: 100_000)
        for text in ["logLevel: debug\nbufferLimit: 64\nlogLevel: info\n# \(long)", "logLevel: \u{1B}[31mred: [\n\(long)"] {
            do {
                _ = try DaemonConfiguration.parse(text)
                Issue.record("accepted: \(text.prefix(40))")
            } catch {
                let message = "\(error)"
                #expect(message.hasPrefix("configuration: not valid YAML: "))
                #expect(message.count < 300 && !message.contains("\n") && !message.unicodeScalars.contains("\u{1B}"))
            }
        }
    }

    @Test("Aliases nested inside a key give up at the deadline instead of hashing for hours")
    func aliasesInsideAKey() throws {
        // Each level repeats the one before ten times: 10^8 nodes to hash for the key, about 2 s
        // of the thread left behind in a debug build.
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...7 { text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        text += "? *a7\n: 1\n"
        let start = ContinuousClock.now
        #expect(throws: DaemonConfiguration.Problem("configuration: the YAML took over 0.2 seconds to read (aliases nested inside a key?)")) {
            try DaemonConfiguration.parse(text, source: "configuration", composeDeadline: .milliseconds(200))
        }
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test("A directory or a FIFO as the file is refused at once, without waiting for a writer")
    func unreadableKinds() throws {
        let directory = NSTemporaryDirectory() + "tawon-config-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: DaemonConfiguration.Problem("\(directory): is a directory, not a file")) {
            try DaemonConfiguration.load(path: directory, required: true)
        }
        let fifo = directory + "/tawond.yaml"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: DaemonConfiguration.Problem("\(fifo): not a regular file (a FIFO or a socket)")) {
            try DaemonConfiguration.load(path: fifo, required: true)
        }
        #expect(try DaemonConfiguration.load(path: "/dev/null", required: true) == DaemonConfiguration())
    }

    @Test("--output flags", arguments: [
        ("stdout", DaemonConfiguration.Output(kind: .stdout)),
        ("stdout:compact", DaemonConfiguration.Output(kind: .stdout, format: .compact)),
        ("file:/var/log/t.jsonl", DaemonConfiguration.Output(kind: .file, path: "/var/log/t.jsonl")),
        ("file:/var/log/t.log:compact", DaemonConfiguration.Output(kind: .file, format: .compact, path: "/var/log/t.log")),
    ])
    func outputFlags(flag: String, output: DaemonConfiguration.Output) throws {
        #expect(try DaemonConfiguration.output(flag: flag) == output)
    }

    @Test("A missing file gives the defaults unless it was asked for")
    func missingFile() throws {
        #expect(try DaemonConfiguration.load(path: "/nonexistent/tawond.yaml", required: false) == DaemonConfiguration())
        #expect(throws: DaemonConfiguration.Problem("/nonexistent/tawond.yaml: no such file")) {
            try DaemonConfiguration.load(path: "/nonexistent/tawond.yaml", required: true)
        }
    }

    @Test("A file output appends and rotates by size, keeping maxFiles old files")
    func rotation() throws {
        let directory = try TestSupport.temporaryDirectory("rotate")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "events.jsonl").path
        let sink = try RotatingFileSink(path: path, maxBytes: 2000, maxFiles: 2, format: .json)
        let output = OutputStage(
            sinks: [sink], source: OutputSource(hostname: "h", instanceID: Identifier.next(), tawonID: Identifier.next()))
        for index in 0..<100 {
            output.accept(EmittedRecord(taskName: "t", directiveID: "d", json: "{\"n\":\(index)}", timestampNanoseconds: 1))
            output.flush()
        }
        output.close()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(files == ["events.jsonl", "events.jsonl.1", "events.jsonl.2"])
        for file in files {
            let size = (try FileManager.default.attributesOfItem(atPath: directory.appending(path: file).path)[.size] as? Int) ?? 0
            #expect(size < 2000 + 300)
        }
        // The write that passes the limit rotates at once: the newest record may be in path.1.
        let newest = ((SystemFile.text(path + ".1") ?? "") + (SystemFile.text(path) ?? "")).split(separator: "\n")
        #expect(newest.last?.contains("\"n\":99") == true)
    }
}
