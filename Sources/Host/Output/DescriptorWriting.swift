import Glibc

/// Writes all of `bytes` to `descriptor`, again after interrupts and short writes; stops at an
/// error (a closed pipe: what cannot be written is dropped). Returns the bytes written.
@discardableResult
func writeFully(_ bytes: [UInt8], to descriptor: Int32) -> Int {
    var written = 0
    while written < bytes.count {
        let result = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        if result < 0 && errno == EINTR { continue }
        if result <= 0 { break }
        written += result
    }
    return written
}
