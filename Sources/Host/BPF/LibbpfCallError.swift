import Foundation

/// A failing libbpf or libc call, by name and errno: the one path for system-call errors.
public struct LibbpfCallError: Error, CustomStringConvertible, Equatable {
    /// The function that failed, e.g. `bpf_object__load`.
    public let call: String
    /// The positive errno it reported.
    public let errno: Int32
    /// What it was doing, e.g. the object or map name.
    public let subject: String

    public init(_ call: String, errno: Int32, subject: String = "") {
        self.call = call
        self.errno = errno
        self.subject = subject
    }

    public var description: String {
        let about = subject.isEmpty ? "" : " (\(subject))"
        return "\(call)\(about) failed: \(String(cString: strerror(errno))) [errno \(errno)]"
    }

    /// Checks a libbpf return code: libbpf returns a negative errno on failure.
    static func check(_ result: Int32, _ call: String, subject: String = "") throws {
        if result < 0 { throw LibbpfCallError(call, errno: -result, subject: subject) }
    }

    /// Checks a pointer a libbpf call returned: NULL with errno set on failure.
    static func check<T>(_ pointer: T?, _ call: String, subject: String = "") throws -> T {
        guard let pointer else {
            throw LibbpfCallError(call, errno: Foundation.errno == 0 ? EINVAL : Foundation.errno,
                                  subject: subject)
        }
        return pointer
    }
}
