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

/// Opens /dev/null on standard input, output or error where a program was started with one
/// closed (`>&-`): the next file it opened (an event loop's epoll, a socket) would otherwise
/// take that number, and get its output.
public func occupyClosedStandardDescriptors() {
    for descriptor: Int32 in 0...2 where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
        let opened = open("/dev/null", O_RDWR)
        if opened >= 0 && opened != descriptor {
            dup2(opened, descriptor)
            close(opened)
        }
    }
}
