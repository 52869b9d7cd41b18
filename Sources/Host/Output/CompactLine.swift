import Foundation
import JSONText
import SyscallTable

/// One strace-like line for a record: `22:03:59.277299 1644020 simulator write(fd=1, buf="+", count=1)`,
/// made from the event the task was handling (not from the task's JSON, whose shape is the
/// task's own). A record with no event (emitted from a task's own thread) shows its JSON.
enum CompactLine {
    static func render(_ record: EmittedRecord, colored: Bool) -> String {
        let time = RFC3339.format(nanosecondsSinceEpoch: Int64(record.timestampNanoseconds))
        let clock = String(time.dropFirst(11).prefix(15))
        guard let event = record.event else {
            return "\(clock) \(record.taskName) \(record.json)"
        }
        let arguments = event.arguments.map { argument -> String in
            switch argument.value {
            case .signed(let number): return "\(argument.name)=\(number)"
            case .unsigned(let number): return "\(argument.name)=\(number)"
            case .text(let text, _): return "\(argument.name)=\"\(text)\""
            }
        }.joined(separator: ", ")
        // A process names itself: its control bytes (a terminal's escapes) are shown, not obeyed.
        let comm = QuotedInput.quote(event.comm)
        let resumed = event.callID != 0 && event.returnValue != nil ? "<... \(event.functionName) resumed> " : ""
        let ending = Self.ending(event)
        guard colored else {
            return "\(clock) \(event.pid) \(comm) \(resumed)\(event.functionName)(\(arguments))\(ending)"
        }
        return "\u{1B}[2m\(clock)\u{1B}[0m \u{1B}[33m\(event.pid)\u{1B}[0m \(comm) \(resumed)"
            + "\u{1B}[1;36m\(event.functionName)\u{1B}[0m(\(arguments))\(ending)"
    }

    /// Calls that return an address, which strace shows in hex.
    static let addressReturning: Set<String> = ["mmap", "mmap2", "brk", "mremap", "shmat"]

    /// As strace ends a line: ` = 3`, ` = -1 ENOENT (No such file or directory)`,
    /// ` <unfinished ...>` for a call still blocked, ` = ?` for exit and exit_group.
    static func ending(_ event: DeliverableEvent) -> String {
        if let result = event.returnValue {
            guard result < 0 && result >= -4095 else {
                return addressReturning.contains(event.functionName) ? " = 0x\(String(result, radix: 16))" : " = \(result)"
            }
            let number = Int32(-result)
            let name = ErrnoNames.byNumber[number] ?? "E\(number)"
            return " = -1 \(name) (\(String(cString: strerror(number))))"
        }
        if event.kind == .syscall && event.callID != 0 { return " <unfinished ...>" }
        // They end the thread: no result, ever (strace: `exit_group(0) = ?`).
        if event.kind == .syscall && (event.functionName == "exit_group" || event.functionName == "exit") { return " = ?" }
        return ""
    }
}
