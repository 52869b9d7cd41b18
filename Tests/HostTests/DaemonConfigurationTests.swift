import Foundation
import Host
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
    }

    @Test("An unknown key or a bad value is an error that names it", arguments: [
        ("socketpath: /x", "configuration: unknown setting 'socketpath' (known: taskDirectories, socketPath, socketGroup, outputs, ringBufferMegabytes, bufferLimit, streamBufferRecords, callDeadlineMilliseconds, orderWindowMilliseconds, logLevel, containerSockets, containerBundleDirectories)"),
        ("ringBufferMegabytes: 48", "ringBufferMegabytes: 48 is not a power of two from 1 to 1024"),
        ("orderWindowMilliseconds: -1", "orderWindowMilliseconds: -1 is not from 0 to 1000"),
        ("orderWindowMilliseconds: 1e9", "configuration: orderWindowMilliseconds: expected a number of milliseconds from 0 to 1000, found '1e9'"),
        // Quoted or tagged as text, a number is text.
        ("ringBufferMegabytes: \"16\"", "configuration: ringBufferMegabytes: expected a power of two from 1 to 1024, found '16'"),
        ("ringBufferMegabytes: !!str 16", "configuration: ringBufferMegabytes: expected a power of two from 1 to 1024, found '16'"),
        ("ringBufferMegabytes: 99999999999999999999", "configuration: ringBufferMegabytes: expected a power of two from 1 to 1024, found '99999999999999999999'"),
        ("ringBufferMegabytes: 1:2:3:4:5:6:7:8:9:10:11:12:13:14", "configuration: ringBufferMegabytes: expected a power of two from 1 to 1024, found '1:2:3:4:5:6:7:8:9:10:11:12:13:14'"),
        ("ringBufferMegabytes: ~", "configuration: ringBufferMegabytes: expected a power of two from 1 to 1024, found '<null>'"),
        ("ringBufferMegabytes: lots", "configuration: ringBufferMegabytes: expected a power of two from 1 to 1024, found 'lots'"),
        ("logLevel: loud", "configuration: logLevel: expected one of trace, debug, info, notice, warning, error, critical, found 'loud'"),
        ("socketPath: relative.sock", "configuration: socketPath: expected an absolute path, found 'relative.sock'"),
        ("outputs:\n  - type: syslog", "configuration: outputs[0]: type: expected stdout or file"),
        ("outputs:\n  - type: file\n    path: /x\n    colour: red", "configuration: outputs[0]: unknown setting 'colour' (known: type, format, path, maxBytes, maxFiles)"),
        ("outputs:\n  - type: file\n    path: relative", "outputs: a file output needs an absolute path, found 'relative'"),
        ("- just a list", "configuration: expected a mapping of settings"),
    ])
    func problems(text: String, message: String) {
        do {
            _ = try DaemonConfiguration.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect("\(error)" == message)
        }
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
