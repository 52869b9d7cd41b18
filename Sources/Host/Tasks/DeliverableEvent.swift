/// An event ready for a task: a hooked function's call, its arguments decoded, or a process's or
/// a container's lifecycle event.
public struct DeliverableEvent: Sendable, Equatable {
    /// What the event is (`tawon_event.kind`).
    public enum Kind: Int32, Sendable, Equatable {
        case syscall = 1
        case process = 2
        case container = 3
    }

    /// Which moment of a call it reports (`tawon_event.phase`).
    public enum Phase: Int32, Sendable, Equatable {
        case none = 0
        case entry = 1
        case exit = 2
    }

    /// One decoded argument.
    public struct Argument: Sendable, Equatable {
        public enum Value: Sendable, Equatable {
            case signed(Int64)
            case unsigned(UInt64)
            case text(String, truncated: Bool)
        }
        public var name: String
        public var type: String
        /// The raw register value.
        public var raw: UInt64
        public var value: Value

        public init(name: String, type: String, raw: UInt64, value: Value) {
            self.name = name
            self.type = type
            self.raw = raw
            self.value = value
        }
    }

    public var timestampNanoseconds: UInt64
    public var cpu: UInt32
    public var pid: UInt32
    public var tid: UInt32
    public var isCompat: Bool
    public var functionID: UInt64
    public var functionName: String
    public var comm: String
    public var arguments: [Argument]
    /// The generation of the process snapshot the host holds for `pid`.
    public var processGeneration: UInt64
    public var kind: Kind
    public var phase: Phase
    /// The call's result, once it returned.
    public var returnValue: Int64?
    /// Joins the ENTRY and EXIT events of a call that blocked past the deadline; 0 otherwise.
    public var callID: UInt64 = 0

    public init(
        timestampNanoseconds: UInt64, cpu: UInt32, pid: UInt32, tid: UInt32, isCompat: Bool = false,
        functionID: UInt64, functionName: String, comm: String, arguments: [Argument] = [],
        processGeneration: UInt64 = 0, kind: Kind = .syscall, phase: Phase = .entry, returnValue: Int64? = nil
    ) {
        self.kind = kind
        self.phase = phase
        self.returnValue = returnValue
        self.timestampNanoseconds = timestampNanoseconds
        self.cpu = cpu
        self.pid = pid
        self.tid = tid
        self.isCompat = isCompat
        self.functionID = functionID
        self.functionName = functionName
        self.comm = comm
        self.arguments = arguments
        self.processGeneration = processGeneration
    }
}
