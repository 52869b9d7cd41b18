import Foundation
import Logging
import TaskABI

/// Finds, checks and loads task plugins. A plugin that cannot be used is refused with one line
/// naming the file and the reason; the others still load.
public struct PluginLoader: Sendable {
    public var searchPath: PluginSearchPath
    public var trust: PluginFileTrust
    /// Loads each file in a process of its own first; nil: no such test load.
    public var probe: PluginProbe?
    public var logger: Logger

    public init(
        searchPath: PluginSearchPath = .standard(), trust: PluginFileTrust = .forCurrentUser,
        probe: PluginProbe? = nil, logger: Logger = Logger(label: "tawon.plugins")
    ) {
        self.searchPath = searchPath
        self.trust = trust
        self.probe = probe
        self.logger = logger
    }

    /// Loads every plugin on the search path. A task name already taken by an earlier (higher
    /// priority) plugin is refused.
    public func loadAll() -> TaskCatalog {
        var tasks: [LoadedTask] = []
        var refusals: [PluginRefusal] = []
        for path in searchPath.candidateFiles() {
            do {
                let task = try load(path)
                if let owner = tasks.first(where: { $0.name == task.name }) {
                    throw PluginRefusal(
                        path: path,
                        reason: "task name '\(task.name)' is already taken by \(owner.path)")
                }
                tasks.append(task)
                logger.info(
                    "loaded task plugin",
                    metadata: ["plugin.name": "\(task.name)", "plugin.path": "\(path)"])
            } catch let refusal as PluginRefusal {
                refusals.append(refusal)
                logger.warning("\(refusal)")
            } catch {
                refusals.append(PluginRefusal(path: path, reason: "\(error)"))
            }
        }
        return TaskCatalog(tasks: tasks, refusals: refusals)
    }

    /// Loads one plugin file, or throws a `PluginRefusal` saying why not.
    public func load(_ path: String) throws -> LoadedTask {
        func refuse(_ reason: String) -> PluginRefusal { PluginRefusal(path: path, reason: reason) }

        if let problem = trust.problem(with: path) { throw refuse(problem) }
        if let problem = PluginFileCheck.problem(path) { throw refuse(problem) }
        if let problem = probe?.problem(with: path) { throw refuse(problem) }
        guard let library = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw refuse("dlopen failed: \(String(cString: dlerror()))")
        }
        guard let entry = dlsym(library, TAWON_TASK_ENTRY_SYMBOL) else {
            throw refuse("no entry symbol \(TAWON_TASK_ENTRY_SYMBOL) (is it exported and public?)")
        }
        typealias Entry = @convention(c) () -> UnsafePointer<tawon_task_descriptor>?
        guard let descriptor = unsafeBitCast(entry, to: Entry.self)() else {
            throw refuse("\(TAWON_TASK_ENTRY_SYMBOL) returned NULL")
        }
        let version = try Self.checkVersion(descriptor).mapError { refuse($0.reason) }.get()
        if let missing = Self.missingFunction(descriptor.pointee) {
            throw refuse("descriptor has no '\(missing)' function (required)")
        }
        let description = try Self.describe(descriptor.pointee).mapError { refuse($0.reason) }.get()
        return LoadedTask(
            path: path, description: description, abiVersion: version, descriptor: descriptor,
            library: library)
    }

    /// Reads the frozen version fields and refuses another major or a newer minor.
    static func checkVersion(
        _ descriptor: UnsafePointer<tawon_task_descriptor>
    ) -> Result<TaskABIVersion, LoadProblem> {
        // Only the first four fields are read before the version is known to be ours.
        let frozen = UnsafeRawPointer(descriptor).bindMemory(to: UInt32.self, capacity: 4)
        let size = frozen[0]
        let version = TaskABIVersion(major: frozen[1], minor: frozen[2], patch: frozen[3])
        let host = TaskABIVersion.host
        if version.major != host.major {
            return .failure(LoadProblem(
                "built for task ABI \(version) but this host speaks \(host):"
                    + " major versions differ; rebuild it against tawon_task.h \(host.major).x"))
        }
        if version.minor > host.minor {
            return .failure(LoadProblem(
                "needs task ABI \(version.major).\(version.minor) or newer but this host speaks"
                    + " \(host.major).\(host.minor) (\(host)); upgrade tawon"))
        }
        if size < ABIStructSizes.descriptor {
            return .failure(LoadProblem(
                "descriptor is \(size) bytes; task ABI \(host.major).0 needs \(ABIStructSizes.descriptor)"))
        }
        return .success(version)
    }

    static func missingFunction(_ descriptor: tawon_task_descriptor) -> String? {
        let required: [(String, Bool)] = [
            ("describe", descriptor.describe != nil), ("create", descriptor.create != nil),
            ("last_error", descriptor.last_error != nil), ("start", descriptor.start != nil),
            ("on_event", descriptor.on_event != nil), ("stop", descriptor.stop != nil),
            ("destroy", descriptor.destroy != nil),
        ]
        return required.first { !$0.1 }?.0
    }

    static func describe(_ descriptor: tawon_task_descriptor) -> Result<TaskDescription, LoadProblem> {
        let (registration, rc) = TaskRegistration.run(descriptor.describe!)
        if rc != tawon_rc(TAWON_RC_OK) {
            let detail = descriptor.last_error!(nil).map { QuotedInput.quote(String(cString: $0), limit: 400) } ?? ""
            let suffix = detail.isEmpty ? "" : ": \(detail)"
            return .failure(LoadProblem("describe failed with code \(rc)\(suffix)"))
        }
        if let malformed = registration.malformed { return .failure(LoadProblem(malformed)) }
        switch registration.infoCount {
        case 0: return .failure(LoadProblem("never called set_info: a task needs a name"))
        case 1: break
        default: return .failure(LoadProblem("called set_info more than once"))
        }
        if let problem = registration.description.problem() { return .failure(LoadProblem(problem)) }
        return .success(registration.description)
    }
}

/// Why a plugin cannot be loaded, before the file name is attached.
struct LoadProblem: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
