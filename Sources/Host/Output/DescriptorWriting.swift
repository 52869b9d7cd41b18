import Glibc

/// Writes all of `bytes` to `descriptor`, again after interrupts and short writes; stops at an
/// error (a closed pipe: what cannot be written is dropped). Returns the bytes written.
@discardableResult
func writeFully(_ bytes: [UInt8], to descriptor: Int32) -> Int {
    bytes.withUnsafeBytes { writeFully($0, to: descriptor) }
}

/// `writeFully` for bytes where they lie.
@discardableResult
public func writeFully(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> Int {
    var written = 0
    while written < bytes.count {
        let result = Glibc.write(descriptor, bytes.baseAddress! + written, bytes.count - written)
        if result < 0 && errno == EINTR { continue }
        if result <= 0 { break }
        written += result
    }
    return written
}
