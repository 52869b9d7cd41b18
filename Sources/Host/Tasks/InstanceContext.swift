import Foundation
import Logging
import TaskABI

/// The host's side of one instance: what `tawon_host_context *` points to.
final class InstanceContext: @unchecked Sendable {
    let taskName: String
    let directiveID: String
    let registeredFunctions: Set<UInt64>
    let services: TaskServices
    private let lock = NSLock()
    private var hooked: [UInt64] = []
    private var acceptingHooks = true
    // process_info strings, per calling thread, freed at that thread's next call.
    private var processStrings: [pthread_t: [UnsafeMutablePointer<CChar>]] = [:]

    init(taskName: String, directiveID: String, registeredFunctions: Set<UInt64>, services: TaskServices) {
        self.taskName = taskName
        self.directiveID = directiveID
        self.registeredFunctions = registeredFunctions
        self.services = services
    }

    deinit {
        for strings in processStrings.values { strings.forEach { free($0) } }
    }

    var hookedFunctions: [UInt64] { lock.withLock { hooked } }

    func closeHooks() { lock.withLock { acceptingHooks = false } }

    func hook(_ id: UInt64) -> Int {
        guard registeredFunctions.contains(id) else { return Int(TAWON_RC_NOT_FOUND) }
        return lock.withLock {
            guard acceptingHooks else { return Int(TAWON_RC_WRONG_TIME) }
            if !hooked.contains(id) { hooked.append(id) }
            return Int(TAWON_RC_OK)
        }
    }

    /// Copies strings for a process_info answer; they live until this thread asks again.
    func keep(_ strings: [String]) -> [UnsafeMutablePointer<CChar>] {
        let copies = strings.map { strdup($0)! }
        let previous = lock.withLock { processStrings.updateValue(copies, forKey: pthread_self()) }
        previous?.forEach { free($0) }
        return copies
    }

    var logMetadata: Logger.Metadata {
        ["task.name": "\(taskName)", "directive.id": "\(directiveID)"]
    }

    static func from(_ pointer: OpaquePointer?) -> InstanceContext? {
        pointer.map { Unmanaged<InstanceContext>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }
}
