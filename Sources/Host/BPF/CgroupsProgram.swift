import CTawonBPF

/// Loader for `bpf/cgroups.bpf.c`: cgroups made and removed, over the process program's maps.
/// Loaded with the others, attached only while some directive wants containers' creation and
/// removal, so that nobody pays for it otherwise.
public final class CgroupsProgram {
    private let object: BPFObject
    private static let programs = ["cgroups_mkdir", "cgroups_rmdir"]

    public init(configuration: KernelConfiguration, sharingMapsOf process: ProcessProgram) throws {
        object = try BPFObject(.cgroups)
        try process.shareMaps(with: object)
        try object.configure("tawon_config", to: configuration.raw)
        try object.load()
    }

    deinit { close() }

    /// The kernel's IDs of this object's programs, loaded whether attached or not.
    public func programIDs() throws -> [UInt32] { try object.programIDs() }

    /// Attaches or detaches both programs.
    public func report(_ wanted: Bool) throws {
        for program in Self.programs {
            if wanted { try object.attach(program) } else { object.detach(program) }
        }
    }

    /// Whether the programs are attached.
    public var reports: Bool { object.isAttached(Self.programs[0]) }

    /// Detaches and unloads everything.
    public func close() { object.close() }
}
