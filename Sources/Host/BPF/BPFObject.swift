import CLibBPF
import CTawonBPF
import Foundation

/// One BPF object's lifecycle, in libbpf-bootstrap's order: open → configure → load → attach;
/// `close()` (or deinit) tears it down in reverse, from this one place.
public final class BPFObject {
    /// The program stem, e.g. `selfcheck`.
    public let name: String
    private let image: UnsafeMutableRawBufferPointer  // libbpf parses the ELF from here until close
    private var object: OpaquePointer?
    private var links: [OpaquePointer] = []
    /// Programs attached and detached one by one, by name.
    private var separateLinks: [String: OpaquePointer] = [:]

    /// Opens an embedded object. Nothing is in the kernel yet.
    public init(_ embedded: EmbeddedBPFObject) throws {
        name = embedded.name
        let bytes = embedded.bytes
        image = .allocate(byteCount: bytes.count, alignment: 8)
        image.copyBytes(from: bytes)
        errno = 0
        guard let opened = ctawon_bpf_open_mem(image.baseAddress, image.count, name) else {
            let code = errno == 0 ? EINVAL : errno
            image.deallocate()
            throw LibbpfCallError("bpf_object__open_mem", errno: code, subject: embedded.name)
        }
        object = opened
    }

    deinit { close() }

    /// Sets a `const volatile` input before load, by its variable name in `.rodata`.
    public func configure<Value>(_ variable: String, to value: Value) throws {
        let target = try global(variable, in: ".rodata", as: Value.self)
        target.storeBytes(of: value, as: Value.self)
    }

    /// Reads a global output (a `.bss` variable) of a loaded object.
    public func readGlobal<Value>(_ variable: String, as type: Value.Type) throws -> Value {
        try global(variable, in: ".bss", as: type).load(as: type)
    }

    /// Sets a map's size before load (e.g. a ring buffer's bytes).
    public func resizeMap(_ mapName: String, maxEntries: UInt32) throws {
        errno = 0
        let map = try LibbpfCallError.check(
            bpf_object__find_map_by_name(try opened(), mapName), "bpf_object__find_map_by_name",
            subject: "\(name)/\(mapName)")
        try LibbpfCallError.check(
            bpf_map__set_max_entries(map, maxEntries), "bpf_map__set_max_entries",
            subject: "\(name)/\(mapName)")
    }

    /// Makes the map `mapName` use an existing map (another object's) instead of creating its
    /// own, before load: programs of several objects then share one ring buffer and one mask.
    public func reuseMap(_ mapName: String, descriptor: Int32) throws {
        errno = 0
        let map = try LibbpfCallError.check(
            bpf_object__find_map_by_name(try opened(), mapName), "bpf_object__find_map_by_name",
            subject: "\(name)/\(mapName)")
        try LibbpfCallError.check(bpf_map__reuse_fd(map, descriptor), "bpf_map__reuse_fd", subject: "\(name)/\(mapName)")
    }

    /// Verifies and loads every program and map into the kernel.
    public func load() throws {
        try LibbpfCallError.check(bpf_object__load(try opened()), "bpf_object__load", subject: name)
    }

    /// Attaches every program at the hook its section names, but those named in `except`
    /// (attached later with `attach(_:)`, while they are needed).
    public func attachAll(except: Set<String> = []) throws {
        var program: OpaquePointer? = nil
        while let next = bpf_object__next_program(try opened(), program) {
            program = next
            let programName = String(cString: bpf_program__name(next))
            if except.contains(programName) { continue }
            errno = 0
            let link = try LibbpfCallError.check(
                bpf_program__attach(next), "bpf_program__attach", subject: "\(name)/\(programName)")
            links.append(link)
        }
    }

    /// Attaches one program by name, if it is not attached already.
    public func attach(_ programName: String) throws {
        guard separateLinks[programName] == nil else { return }
        errno = 0
        let program = try LibbpfCallError.check(
            bpf_object__find_program_by_name(try opened(), programName), "bpf_object__find_program_by_name",
            subject: "\(name)/\(programName)")
        errno = 0
        separateLinks[programName] = try LibbpfCallError.check(
            bpf_program__attach(program), "bpf_program__attach", subject: "\(name)/\(programName)")
    }

    /// Detaches a program attached with `attach(_:)`.
    public func detach(_ programName: String) {
        if let link = separateLinks.removeValue(forKey: programName) { bpf_link__destroy(link) }
    }

    /// Whether `attach(_:)` attached this program.
    public func isAttached(_ programName: String) -> Bool { separateLinks[programName] != nil }

    /// The kernel's IDs of the loaded programs, as `bpftool prog list` shows them.
    public func programIDs() throws -> [UInt32] {
        var ids: [UInt32] = []
        var program: OpaquePointer? = nil
        while let next = bpf_object__next_program(try opened(), program) {
            program = next
            var info = bpf_prog_info()
            var length = UInt32(MemoryLayout<bpf_prog_info>.size)
            try LibbpfCallError.check(
                bpf_obj_get_info_by_fd(bpf_program__fd(next), &info, &length), "bpf_obj_get_info_by_fd",
                subject: "\(name)/\(String(cString: bpf_program__name(next)))")
            ids.append(info.id)
        }
        return ids
    }

    /// The file descriptor of a map, by name.
    public func mapDescriptor(_ mapName: String) throws -> Int32 {
        errno = 0
        let map = try LibbpfCallError.check(
            bpf_object__find_map_by_name(try opened(), mapName), "bpf_object__find_map_by_name",
            subject: "\(name)/\(mapName)")
        let descriptor = bpf_map__fd(map)
        try LibbpfCallError.check(descriptor, "bpf_map__fd", subject: "\(name)/\(mapName)")
        return descriptor
    }

    /// Detaches every program and frees the object; the kernel keeps nothing of it.
    public func close() {
        for link in separateLinks.values { bpf_link__destroy(link) }
        separateLinks.removeAll()
        for link in links.reversed() { bpf_link__destroy(link) }
        links.removeAll()
        if let object {
            bpf_object__close(object)
            self.object = nil
            image.deallocate()
        }
    }

    private func opened() throws -> OpaquePointer {
        guard let object else { throw LibbpfCallError("bpf_object", errno: EBADF, subject: name) }
        return object
    }

    private func global<Value>(
        _ variable: String, in section: String, as type: Value.Type
    ) throws -> UnsafeMutableRawPointer {
        var size = 0
        errno = 0
        let pointer = try LibbpfCallError.check(
            ctawon_bpf_global(try opened(), section, variable, &size), "ctawon_bpf_global",
            subject: "\(name)\(section).\(variable)")
        guard size == MemoryLayout<Value>.size else {
            throw LibbpfCallError("ctawon_bpf_global", errno: EINVAL,
                                  subject: "\(name)\(section).\(variable) is \(size) bytes")
        }
        return pointer
    }
}
