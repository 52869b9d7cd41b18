import TaskABI

/// The sizes the task ABI's structs had in version 1.0: the smallest the host accepts from a
/// plugin (Sources/TaskABI/abi_checks.c asserts that every later field starts past them).
enum ABIStructSizes {
    static let taskInfo: UInt32 = 32
    static let function: UInt32 = 48
    static let capabilitySet: UInt32 = 40
    static let outputField: UInt32 = 32
    static let option: UInt32 = 40
    static let record: UInt32 = 32
    static let processInfo: UInt32 = 80
    static let descriptor: UInt32 = 72
    static let fieldValue: UInt32 = UInt32(MemoryLayout<tawon_field_value>.size)  // new in 1.1

    /// A copy of the struct a plugin lent, reading only the `size` bytes it says it filled;
    /// fields past them (added in a later minor version than the plugin's) are zero.
    static func read<Struct>(_ pointer: UnsafePointer<Struct>, size: UInt32) -> Struct {
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: MemoryLayout<Struct>.size, alignment: MemoryLayout<Struct>.alignment)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<Struct>.size)
        raw.copyMemory(from: pointer, byteCount: min(Int(size), MemoryLayout<Struct>.size))
        return raw.load(as: Struct.self)
    }

    /// Writes `value` into a struct the task owns, no more than its `struct_size` (the first
    /// four bytes) holds, and sets that field to how much was written.
    static func fill<Struct>(_ out: UnsafeMutablePointer<Struct>, with value: Struct) {
        let capacity = UnsafeRawPointer(out).load(as: UInt32.self)
        let written = min(Int(capacity), MemoryLayout<Struct>.size)
        withUnsafeBytes(of: value) { bytes in
            UnsafeMutableRawPointer(out).copyMemory(from: bytes.baseAddress!, byteCount: written)
        }
        UnsafeMutableRawPointer(out).storeBytes(of: UInt32(written), as: UInt32.self)
    }
}
