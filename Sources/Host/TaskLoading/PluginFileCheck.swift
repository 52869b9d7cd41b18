import Foundation

/// What is checked of a plugin file before dlopen, which maps it and trusts its headers: a
/// FIFO would block it forever, and a header that points past the end of a truncated file makes
/// the loader touch unmapped pages (SIGBUS). This does not make a file safe to load: a well-formed
/// plugin runs in the host's process and can do anything the host can. Trust comes from where
/// the file is (root-owned directories, see PluginFileTrust); this keeps accidents out.
enum PluginFileCheck {
    static let maximumSize = 512 << 20
    private static let elfHeaderSize = 64
    private static let programHeaderSize = 56
    private static let sectionHeaderSize = 64

    /// Why `path` cannot be a shared object for this machine, or nil.
    static func problem(_ path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else { return "cannot stat: \(String(cString: strerror(errno)))" }
        guard status.st_mode & S_IFMT == S_IFREG else { return "not a regular file" }
        guard status.st_size >= elfHeaderSize else { return "not an ELF shared object" }
        guard status.st_size <= maximumSize else { return "larger than \(maximumSize >> 20) MiB" }
        // O_NONBLOCK: should it have become a FIFO since the stat, the open does not wait.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return "cannot open: \(String(cString: strerror(errno)))" }
        defer { close(descriptor) }
        var opened = stat()
        guard fstat(descriptor, &opened) == 0, opened.st_mode & S_IFMT == S_IFREG else { return "not a regular file" }
        let size = Int(opened.st_size)
        guard let header = read(descriptor, at: 0, count: elfHeaderSize) else { return "cannot read its ELF header" }
        return headerProblem(header, fileSize: size) ?? segmentsProblem(descriptor, header, fileSize: size)
    }

    /// The ELF header: a 64-bit little-endian shared object for x86_64, its tables inside the file.
    static func headerProblem(_ header: [UInt8], fileSize: Int) -> String? {
        guard header.starts(with: [0x7F, 0x45, 0x4C, 0x46]) else { return "not an ELF shared object" }
        guard header[4] == 2, header[5] == 1 else { return "not a 64-bit little-endian ELF file" }
        guard field(UInt16.self, header, 16) == 3 else { return "not a shared object (ELF type \(field(UInt16.self, header, 16)))" }
        guard field(UInt16.self, header, 18) == 62 else { return "built for another machine (ELF machine \(field(UInt16.self, header, 18)))" }
        let programTable = (offset: field(UInt64.self, header, 32), entry: field(UInt16.self, header, 54), count: field(UInt16.self, header, 56))
        let sectionTable = (offset: field(UInt64.self, header, 40), entry: field(UInt16.self, header, 58), count: field(UInt16.self, header, 60))
        guard programTable.count > 0, programTable.entry == programHeaderSize,
            fits(programTable.offset, UInt64(programTable.count) * UInt64(programTable.entry), in: fileSize)
        else { return "its program headers lie outside the file (truncated or damaged)" }
        if sectionTable.count > 0 {
            guard sectionTable.entry == sectionHeaderSize,
                fits(sectionTable.offset, UInt64(sectionTable.count) * UInt64(sectionTable.entry), in: fileSize)
            else { return "its section headers lie outside the file (truncated or damaged)" }
        }
        return nil
    }

    /// Every segment the loader maps or reads (PT_LOAD, PT_DYNAMIC...) lies inside the file.
    private static func segmentsProblem(_ descriptor: Int32, _ header: [UInt8], fileSize: Int) -> String? {
        let offset = Int(field(UInt64.self, header, 32))
        let count = Int(field(UInt16.self, header, 56))
        guard let table = read(descriptor, at: offset, count: count * programHeaderSize) else {
            return "cannot read its program headers"
        }
        var loads = 0
        for index in 0..<count {
            let base = index * programHeaderSize
            let type = field(UInt32.self, table, base)
            let fileOffset = field(UInt64.self, table, base + 8)
            let fileBytes = field(UInt64.self, table, base + 32)
            let memoryBytes = field(UInt64.self, table, base + 40)
            if type == 1 { loads += 1 }  // PT_LOAD
            guard type == 0 || fits(fileOffset, fileBytes, in: fileSize) else {
                return "segment \(index) lies outside the file (truncated or damaged)"
            }
            if type == 1 && memoryBytes < fileBytes { return "segment \(index) is malformed" }
        }
        return loads > 0 ? nil : "it has nothing to load"
    }

    private static func fits(_ offset: UInt64, _ length: UInt64, in size: Int) -> Bool {
        let (end, overflow) = offset.addingReportingOverflow(length)
        return !overflow && end <= UInt64(size)
    }

    private static func field<T: FixedWidthInteger>(_ type: T.Type, _ bytes: [UInt8], _ offset: Int) -> T {
        guard offset + MemoryLayout<T>.size <= bytes.count else { return 0 }
        return bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }

    private static func read(_ descriptor: Int32, at offset: Int, count: Int) -> [UInt8]? {
        guard count >= 0, count <= 1 << 20 else { return nil }
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(offset)) }
        return got == count ? bytes : nil
    }
}
