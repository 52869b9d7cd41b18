import CTawonBPF
import Foundation

/// The host's view of the `watched_pids` map: one bit per tgid, set while `watched_processes` may
/// hold that tgid, so that the programs skip the hash lookup for every process nobody watches.
/// Mapped into the host's memory, where bits change with the same atomic operations the kernel
/// uses. Changed only by `ProcessProgram.watch`, in the kernel's order: a bit is set after its
/// entry is added; cleared before the entry's absence is checked.
final class WatchedPidBits {
    private let words: UnsafeMutablePointer<UInt64>
    private let mappedBytes: Int
    /// tgids below this have a bit; the programs look up any other in the hash.
    let capacity: UInt32

    /// Words for every pid the kernel may hand out now (`/proc/sys/kernel/pid_max`): a pid above
    /// it, after pid_max is raised, is looked up in the hash as before.
    static var wordCount: UInt32 {
        let text = (try? String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8)) ?? ""
        let pidMax = UInt32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? pidMaxLimit
        return (min(max(pidMax, 1), pidMaxLimit) + 63) / 64
    }

    /// The kernel's own bound on pid_max (PID_MAX_LIMIT on 64-bit machines).
    static let pidMaxLimit: UInt32 = 4_194_304

    /// Maps the loaded map `descriptor`, which holds `wordCount` words.
    init(mapDescriptor descriptor: Int32, wordCount: UInt32) throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        mappedBytes = (Int(wordCount) * 8 + page - 1) / page * page
        let mapped = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw LibbpfCallError("mmap", errno: errno, subject: "watched_pids")
        }
        words = mapped.bindMemory(to: UInt64.self, capacity: Int(wordCount))
        capacity = wordCount * 64
    }

    deinit { munmap(words, mappedBytes) }

    /// After an entry for `tgid` was added.
    func mark(_ tgid: UInt32) {
        guard tgid < capacity else { return }
        ctawon_atomic_or_u64(words + Int(tgid / 64), 1 << UInt64(tgid % 64))
    }

    /// After `tgid`'s entry was deleted: `stillWatched` is asked after the bit is cleared, so an
    /// entry the kernel added meanwhile (it sets the bit after adding) keeps its bit.
    func unmark(_ tgid: UInt32, stillWatched: () -> Bool) {
        guard tgid < capacity else { return }
        ctawon_atomic_and_u64(words + Int(tgid / 64), ~(1 << UInt64(tgid % 64)))
        if stillWatched() { mark(tgid) }
    }

    /// Whether the programs would look `tgid` up.
    func contains(_ tgid: UInt32) -> Bool {
        guard tgid < capacity else { return true }
        return ctawon_load_acquire_u64(words + Int(tgid / 64)) & (1 << UInt64(tgid % 64)) != 0
    }
}
