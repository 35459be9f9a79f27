import Foundation
import GuarantorCore

/// The wall clock, for the shells only (when a key was made, an audited read, a checkpoint, a redaction). The engines
/// never read it: they run on event time.
public enum WallClock {
    /// Now, to the millisecond (receipt times are written with it).
    public static func now() -> Timestamp {
        Timestamp(nanoseconds: Int64((Date().timeIntervalSince1970 * 1e3).rounded(.down)) * 1_000_000)
    }
}
