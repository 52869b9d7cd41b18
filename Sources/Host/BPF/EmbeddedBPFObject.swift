import Foundation

/// A BPF object compiled from `bpf/NAME.bpf.c` at build time and embedded in the host.
///
/// The build-tool plugin `BPFObjectEmbedder` generates one `static let NAME` per program in an
/// extension of this type, so adding a `.bpf.c` file is all it takes to ship a program.
public struct EmbeddedBPFObject: Sendable {
    /// The program's stem, e.g. `selfcheck` for `bpf/selfcheck.bpf.c`.
    public let name: String
    let byteCount: Int
    let base64: StaticString

    init(name: String, byteCount: Int, base64: StaticString) {
        self.name = name
        self.byteCount = byteCount
        self.base64 = base64
    }

    /// The ELF object's bytes.
    public var bytes: [UInt8] {
        let text = base64.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
        guard let data = Data(base64Encoded: text), data.count == byteCount else {
            preconditionFailure("embedded BPF object \(name) is corrupt: rebuild")
        }
        return [UInt8](data)
    }
}
