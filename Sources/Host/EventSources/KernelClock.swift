import Foundation
import Synchronization

/// Turns the kernel's CLOCK_BOOTTIME readings (record timestamps, process start times) into
/// wall-clock time. The offset between the two clocks moves when the wall clock is set or
/// slewed (NTP), so it is read again on every poll, not once at start: a daemon that runs for
/// weeks keeps exact timestamps.
public enum KernelClock {
    private static let offset = Atomic<Int64>(measuredOffset())

    /// Reads the offset again; the poll loop calls it once per poll (three vDSO calls). Each
    /// reading is off by some tens of nanoseconds: the offset moves only when the clocks really
    /// moved apart, so that records in timestamp order keep their order in wall-clock time.
    static func refresh() {
        let measured = measuredOffset()
        let current = offset.load(ordering: .relaxed)
        if abs(measured - current) >= stepNanoseconds { offset.store(measured, ordering: .relaxed) }
    }

    /// How far the clocks must move apart before timestamps follow: NTP slews the wall clock by
    /// at most 0.5 ms a second.
    static let stepNanoseconds: Int64 = 100_000

    /// Wall-clock nanoseconds since the epoch of a CLOCK_BOOTTIME reading.
    public static func wallNanoseconds(boot: UInt64) -> Int64 {
        Int64(bitPattern: boot) &+ offset.load(ordering: .relaxed)
    }

    /// Wall-clock nanoseconds of a time in clock ticks since boot (/proc/PID/stat's starttime).
    static func wallNanoseconds(ticksSinceBoot ticks: UInt64) -> Int64 {
        wallNanoseconds(boot: ticks &* 1_000_000_000 / UInt64(max(ticksPerSecond, 1)))
    }

    static let ticksPerSecond = Int64(sysconf(Int32(_SC_CLK_TCK)))

    static func nanoseconds(_ clock: clockid_t) -> Int64 {
        var now = timespec()
        clock_gettime(clock, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// REALTIME − BOOTTIME, read so that the two readings bracket each other as tightly as the
    /// calls allow.
    private static func measuredOffset() -> Int64 {
        let before = nanoseconds(CLOCK_BOOTTIME)
        let wall = nanoseconds(CLOCK_REALTIME)
        let after = nanoseconds(CLOCK_BOOTTIME)
        return wall - (before + (after - before) / 2)
    }
}

extension Duration {
    /// Whole nanoseconds of a non-negative duration (the boot clock's unit).
    var nanoseconds: UInt64 {
        UInt64(components.seconds) &* 1_000_000_000 &+ UInt64(components.attoseconds / 1_000_000_000)
    }

    /// In seconds, as Foundation's timeouts take them.
    var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
