import GuarantorCore

/// The incidents that stand: those that may still change (held in memory) and the sealed rows of the store that no
/// live incident stands for and no action replaced — read in (start, id) order, page by page.
public struct StandingIncidents: Sendable {
    public let store: EventStore
    /// Incidents that may still change, by id.
    public private(set) var live: [String: IncidentRecord] = [:]
    /// Sealed rows that no longer stand.
    public private(set) var superseded: Set<String> = []
    /// What the live incidents count, kept as they change.
    public private(set) var liveCounts = StoredEngine.Counts()
    private var order: [(start: Int64, id: String)]?

    public init(store: EventStore) { self.store = store }

    /// One standing incident: a sealed row, or a live record.
    public enum Standing: Sendable {
        case sealed(EventStore.SealedIncident)
        case live(IncidentRecord)

        public var start: Int64 {
            switch self {
            case .sealed(let row): row.start
            case .live(let record): record.incident.start.nanoseconds
            }
        }

        public var id: String {
            switch self {
            case .sealed(let row): row.id
            case .live(let record): record.incident.id
            }
        }

        public var status: String {
            switch self {
            case .sealed(let row): row.status
            case .live(let record): record.incident.status.rawValue
            }
        }
    }

    public mutating func set(_ record: IncidentRecord) {
        liveCounts.add(record, 1)
        if let old = live.updateValue(record, forKey: record.incident.id) {
            liveCounts.add(old, -1)
        } else {
            order = nil
        }
    }

    public mutating func remove(_ id: String) {
        if let old = live.removeValue(forKey: id) {
            liveCounts.add(old, -1)
            order = nil
        }
    }

    public mutating func supersede(_ id: String) { superseded.insert(id) }

    public mutating func unsupersede(_ id: String) { superseded.remove(id) }

    /// Standing incidents after `cursor` in (start, id) order passing `filter` (sealed rows) and `status` (live
    /// ones), each handed to `take` until it returns false or none is left. Sealed rows are read `batch` at a time.
    public mutating func forEach(
        after cursor: (Int64, String)? = nil, filter: EventStore.SealedFilter = .init(), batch: Int = 4_096,
        _ take: (Standing) throws -> Bool
    ) throws {
        let order = liveOrder()
        var liveIndex = cursor.map { c in Self.lowerBound(order, after: c) } ?? 0
        var sealedCursor = cursor
        var rows: [EventStore.SealedIncident] = []
        var rowIndex = 0
        var sealedDone = false
        while true {
            if rowIndex == rows.count && !sealedDone {
                rows = try store.sealedIncidents(after: sealedCursor, filter: filter, limit: batch)
                rowIndex = 0
                if rows.count < batch { sealedDone = true }
                if let last = rows.last { sealedCursor = (last.start, last.id) }
            }
            let row = rowIndex < rows.count ? rows[rowIndex] : nil
            let next = liveIndex < order.count ? order[liveIndex] : nil
            if let row, next == nil || (row.start, row.id) < (next!.start, next!.id) {
                rowIndex += 1
                if live[row.id] != nil || superseded.contains(row.id) { continue }
                guard try take(.sealed(row)) else { return }
            } else if let next {
                liveIndex += 1
                let record = live[next.id]!
                if let status = filter.status, record.incident.status.rawValue != status { continue }
                guard try take(.live(record)) else { return }
            } else {
                return
            }
        }
    }

    private mutating func liveOrder() -> [(start: Int64, id: String)] {
        if let order { return order }
        let sorted = live.values.map { ($0.incident.start.nanoseconds, $0.incident.id) }.sorted { $0 < $1 }
        order = sorted
        return sorted
    }

    private static func lowerBound(_ order: [(start: Int64, id: String)], after cursor: (Int64, String)) -> Int {
        var low = 0, high = order.count
        while low < high {
            let mid = (low + high) / 2
            if (order[mid].start, order[mid].id) <= cursor { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
