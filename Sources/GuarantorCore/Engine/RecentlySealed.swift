import Foundation

/// The incidents sealed in the last days, by kind group and place: what a late report is matched against.
///
/// A report later than the allowed lateness cannot change an incident already sealed (its record and the alerts
/// that counted it are out), but it should still be known to describe that incident: it *joins* the sealed incident
/// whose members it links to by the correlation rules (kind group, time window, distance allowing for the
/// uncertainties), the closest one in units of the link reach and window (ties to the smaller incident id). An
/// incident is kept here until its newest member is ``keptSeconds`` behind the watermark; a report older than that
/// joins nothing and stands alone, as before.
struct RecentlySealed: Sendable {
    /// How long a sealed incident can still be joined by a late report, behind the watermark (72 hours, the bound of
    /// back-dated paperwork).
    static let keptSeconds = 259_200.0
    static let cellDegrees = 0.25

    struct Entry: Sendable {
        var key: UInt64
        var group: UInt8
        var newest: Int64
        var members: [Correlator.Link]
        var points: [GeoPoint]
    }

    private var entries: [UInt64: Entry] = [:]
    /// Keys in the order they were sealed, with their newest times (the front expires first).
    private var order: [(key: UInt64, newest: Int64)] = []
    private var head = 0
    private var cells: [Int64: [UInt64]] = [:]
    private let windows: [VerificationPolicy.Window]

    init(policy: VerificationPolicy) {
        windows = KindGroup.allCases.map { policy.window(for: $0) }
    }

    /// Keeps a sealed incident (its members, earliest first).
    mutating func insert(_ members: [Report]) {
        guard let first = members.first else { return }
        let key = IncidentKey.of(observationId: first.observation.id)
        let entry = Entry(
            key: key, group: Correlator.groupOrdinals[first.observation.kind.group]!,
            newest: members.map(\.time).max()!, members: members.map(Correlator.Link.init),
            points: members.map(\.observation.location.point))
        insert(entry)
    }

    private mutating func insert(_ entry: Entry) {
        if entries[entry.key] != nil { remove(entry.key) }
        entries[entry.key] = entry
        order.append((entry.key, entry.newest))
        for cell in Set(entry.points.map { Self.cell(entry.group, $0) }) { cells[cell, default: []].append(entry.key) }
    }

    private mutating func remove(_ key: UInt64) {
        guard let entry = entries.removeValue(forKey: key) else { return }
        for cell in Set(entry.points.map { Self.cell(entry.group, $0) }) {
            cells[cell]?.removeAll { $0 == key }
            if cells[cell]?.isEmpty == true { cells[cell] = nil }
        }
    }

    /// Forgets the incidents whose newest member is before `cutoff`.
    mutating func expire(before cutoff: Int64) {
        while head < order.count && order[head].newest < cutoff {
            let (key, newest) = order[head]
            if entries[key]?.newest == newest { remove(key) }
            head += 1
        }
        if head > 4_096 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    /// The sealed incident a late report describes, if any (kept ones only: newest member at or after `cutoff`).
    func match(_ report: Report, cutoff: Int64) -> (key: UInt64, separation: Double)? {
        let group = Correlator.groupOrdinals[report.observation.kind.group]!
        let window = windows[Int(group)]
        let link = Correlator.Link(report)
        let p = report.observation.location.point
        let latReach = VerificationPolicy.maximumLinkMeters / 111_000 / Self.cellDegrees
        let lonReach = latReach / max(cos(p.lat * .pi / 180), 0.05)
        let (x, y) = (Int((p.lon / Self.cellDegrees).rounded(.down)), Int((p.lat / Self.cellDegrees).rounded(.down)))
        var best: (separation: Double, key: UInt64)?
        var seen: Set<UInt64> = []
        for dx in -Int(lonReach.rounded(.up))...Int(lonReach.rounded(.up)) {
            for dy in -Int(latReach.rounded(.up))...Int(latReach.rounded(.up)) {
                for key in cells[Self.key(group, x + dx, y + dy)] ?? [] where seen.insert(key).inserted {
                    let entry = entries[key]!
                    guard entry.newest >= cutoff else { continue }
                    for m in entry.members where Correlator.linked(m, link, window) {
                        let s = Correlator.separation(m, link, window)
                        if best == nil || (s, key) < (best!.separation, best!.key) { best = (s, key) }
                    }
                }
            }
        }
        return best.map { ($0.key, $0.separation) }
    }

    private static func cell(_ group: UInt8, _ p: GeoPoint) -> Int64 {
        key(group, Int((p.lon / cellDegrees).rounded(.down)), Int((p.lat / cellDegrees).rounded(.down)))
    }

    private static func key(_ group: UInt8, _ x: Int, _ y: Int) -> Int64 {
        Int64(group) << 40 | Int64(x & 0xFFFFF) << 20 | Int64(y & 0xFFFFF)
    }

    // MARK: Snapshot

    /// The kept incidents at or after `cutoff`, in a canonical order (by newest member, then key).
    func kept(from cutoff: Int64) -> [Entry] {
        entries.values.filter { $0.newest >= cutoff }.sorted { ($0.newest, $0.key) < ($1.newest, $1.key) }
    }

    /// Keeps an incident read back from a snapshot.
    mutating func restore(_ entry: Entry) { insert(entry) }
}
