import Foundation
import GuarantorCore
import GuarantorStore

/// Exports for other tools (STIX 2.1, ACLED-style CSV, GeoJSON), drawn from what one reader may see of the results
/// (``ResultView``), the same way for `guarantor export` (over a stored engine) and for the API (over the server's
/// view): the same log gives the same bytes.
public enum Exports {
    /// The formats, by the file name the API serves them as.
    public enum Format: String, CaseIterable, Sendable {
        case stix = "stix.json"
        case acled = "acled.csv"
        case incidents = "incidents.geojson"
        case violations = "violations.geojson"

        public var contentType: String {
            switch self {
            case .stix: "application/stix+json;version=2.1"
            case .acled: "text/csv; charset=utf-8"
            case .incidents, .violations: "application/geo+json"
            }
        }
    }

    /// An export's bytes and how many restricted records it holds (the read is audited).
    public struct File: Sendable {
        public var bytes: [UInt8]
        public var restricted: Int
    }

    /// An export from a stored engine, as `reader` sees it.
    public static func file(_ format: Format, from stored: StoredEngine, reader: ReportReader) throws -> File {
        var view = ResultView(mission: stored.mission, store: stored.store, standing: stored.engine.standingFindings)
        try view.load(stored)
        return try view.export(format, reader: reader)
    }
}

extension ResultView {
    /// Every incident the reader may see, with the observations of each it may read.
    mutating func exchangeItems(for member: String?) throws -> (items: [STIXBundle.Item], restricted: Int) {
        let shown = try reportIncidents(
            for: member, in: ReportPeriod(from: Timestamp(nanoseconds: 0), to: Timestamp(nanoseconds: .max - 1)))
        let incidents = try shown.map { try ReportIncident(line: $0.line, findings: $0.findings) }
        // Each incident's observation ids, read once from its line.
        let lists: [[String]] = try shown.map { s in
            guard case .object(let m) = try JSONValue.parse(s.line), case .array(let list) = m["observationIds"]
            else { return [] }
            return list.compactMap { if case .string(let id) = $0 { id } else { nil } }
        }
        var byId: [String: Observation] = [:]
        for o in try store.observations(ids: lists.flatMap { $0 })
        where member.map({ Releasability.canRead(member: $0, o) }) ?? true {
            byId[o.id] = o
        }
        let items = zip(lists, incidents).map { list, incident in
            STIXBundle.Item(incident: incident, observations: list.compactMap { byId[$0] })
        }
        return (items, shown.filter(\.restricted).count)
    }

    /// One export as `reader` sees it.
    mutating func export(_ format: Exports.Format, reader: ReportReader) throws -> Exports.File {
        let (items, restricted) = try exchangeItems(for: reader.member)
        let incidents = items.map(\.incident)
        let bytes: [UInt8] =
            switch format {
            case .stix: STIXBundle(mission: mission, reader: reader, items: items).json()
            case .acled: TableExports.acled(mission: mission, incidents: incidents)
            case .incidents: TableExports.geoJSON(incidents, violations: false)
            case .violations: TableExports.geoJSON(incidents, violations: true)
            }
        return Exports.File(bytes: bytes, restricted: restricted)
    }
}
