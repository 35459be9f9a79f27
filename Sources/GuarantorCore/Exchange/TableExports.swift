/// The record as the tables conflict researchers use (docs/FORMATS.md): an ACLED-style CSV with ACLED's current
/// 31 columns, and GeoJSON FeatureCollections of incidents and violations for QGIS and GDAL. Each is one reader's
/// view (the incidents given are already filtered) and deterministic: times are event times, rows in one order.
public enum TableExports {
    /// ACLED's header, in its order.
    public static let acledHeader = [
        "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
        "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
        "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude", "geo_precision",
        "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
    ]

    /// ACLED's event type and sub-event type for an incident kind (the table in docs/FORMATS.md).
    public static func acledType(_ kind: ObservationKind) -> (disorder: String, event: String, sub: String) {
        switch kind {
        case .artilleryFire, .mortarFire, .mlrsFire, .explosion:
            ("Political violence", "Explosions/Remote violence", "Shelling/artillery/missile attack")
        case .smallArmsFire: ("Political violence", "Battles", "Armed clash")
        case .infrastructureDamage: ("Strategic developments", "Strategic developments", "Looting/property destruction")
        default: ("Strategic developments", "Strategic developments", "Other")
        }
    }

    /// ACLED's geo_precision from the location's uncertainty: 1 within 2 km (the place itself), 2 within 25 km (near
    /// it, or the district), 3 beyond or without a sector (the region).
    public static func geoPrecision(uncertaintyMeters: Double, sector: String?) -> Int {
        guard sector != nil else { return 3 }
        return uncertaintyMeters <= 2_000 ? 1 : uncertaintyMeters <= 25_000 ? 2 : 3
    }

    /// The incidents as ACLED-style CSV (RFC 4180, CRLF line ends as ACLED's files have them).
    public static func acled(mission: Mission, incidents: [ReportIncident]) -> [UInt8] {
        var out = acledHeader.joined(separator: ",") + "\r\n"
        let parties = Dictionary(mission.agreement.parties.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        for i in incidents.sorted(by: { ($0.start, $0.id) < ($1.start, $1.id) }) {
            let type = acledType(i.kind)
            let violations = i.violations
            let party = violations.first { $0.party != "unattributed" }?.party
            let actor = party.map { parties[$0] ?? $0 } ?? ""
            let organisations = Set(i.sources.compactMap { mission.sources[$0]?.organisation ?? $0 }).sorted()
            let updated = max(i.end ?? i.start, i.verifiedAt ?? i.start)
            let findings = violations.map { "\($0.rule) (\($0.severity.rawValue), \($0.party))" }
            let notes =
                "\(i.kind.rawValue), count \(i.count), \(i.status.rawValue)"
                + (i.weaponClass.map { ", \($0.rawValue)" } ?? "")
                + (findings.isEmpty ? "" : "; violations: " + findings.joined(separator: "; "))
                + "; uncertainty \(Int(i.uncertaintyMeters.rounded())) m"
            let row: [String] = [
                i.id, String(i.start.rfc3339.prefix(10)), String(i.start.rfc3339.prefix(4)), "1", type.disorder,
                type.event, type.sub, actor, "", actor.isEmpty ? "" : "State forces", "", "", "",
                actor.isEmpty ? "" : "State forces only", "", "804", "Europe", "Ukraine", "", "", "",
                i.sector ?? "", fixed(i.point.lat), fixed(i.point.lon),
                "\(geoPrecision(uncertaintyMeters: i.uncertaintyMeters, sector: i.sector))",
                organisations.joined(separator: "; "), "Other", notes, i.kind == .casualty ? "\(i.count)" : "0",
                "status=\(i.status.rawValue)", "\(updated.nanoseconds / 1_000_000_000)",
            ]
            out += row.map(csvField).joined(separator: ",") + "\r\n"
        }
        return Array(out.utf8)
    }

    /// Incidents (or, with `violations`, one feature per finding) as an RFC 7946 FeatureCollection of points.
    public static func geoJSON(_ incidents: [ReportIncident], violations: Bool) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("type"); w.string("FeatureCollection")
        w.key("features"); w.beginArray()
        for i in incidents.sorted(by: { ($0.start, $0.id) < ($1.start, $1.id) }) {
            for f in violations ? i.findings.map(Optional.some) : [nil] {
                w.beginObject()
                w.key("type"); w.string("Feature")
                w.key("id"); w.string(f?.id ?? i.id)
                w.key("geometry"); w.beginObject()
                w.key("type"); w.string("Point")
                w.key("coordinates"); w.beginArray()
                w.number(i.point.lon, decimals: 6); w.number(i.point.lat, decimals: 6)
                w.endArray()
                w.endObject()
                w.key("properties"); w.beginObject()
                if let f {
                    w.key("id"); w.string(f.id)
                    w.key("incidentId"); w.string(i.id)
                    w.key("rule"); w.string(f.rule)
                    w.key("severity"); w.string(f.severity.rawValue)
                    w.key("attributedTo"); w.string(f.party)
                    w.key("zone"); if let z = f.zone { w.string(z) } else { w.null() }
                    w.key("incidentStatus"); w.string(f.status.rawValue)
                } else {
                    w.key("id"); w.string(i.id)
                    w.key("status"); w.string(i.status.rawValue)
                    w.key("count"); w.int(i.count)
                    w.key("weaponClass"); if let v = i.weaponClass { w.string(v.rawValue) } else { w.null() }
                    w.key("side"); w.string(i.side)
                    w.key("violations"); w.int(i.violations.count)
                }
                w.key("kind"); w.string(i.kind.rawValue)
                w.key("start"); w.string(i.start.rfc3339)
                w.key("end"); w.string((i.end ?? i.start).rfc3339)
                w.key("sector"); if let s = i.sector { w.string(s) } else { w.null() }
                w.key("uncertaintyMeters"); w.number(i.uncertaintyMeters, decimals: 1)
                w.endObject()
                w.endObject()
            }
        }
        w.endArray()
        w.endObject()
        return w.bytes + [0x0A]
    }

    static func fixed(_ x: Double) -> String {
        var w = JSONWriter()
        w.number(x, decimals: 4)
        return w.string
    }

    /// A CSV field, quoted when it holds a comma, a quote or a line end.
    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
