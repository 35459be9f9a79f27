import Foundation

/// Observations from other tools' files (docs/FORMATS.md#imports): a STIX 2.1 bundle from a member's MISP or
/// OpenCTI, an ACLED or UCDP GED CSV. Each record that maps becomes one observation, validated as every observation
/// is; the file is taken whole or not at all, each error naming the record (the object's number in `objects`, or
/// the CSV line), the field (the file's own name for it) and the reason. What does not map (a STIX indicator, an
/// ACLED protest) is counted as skipped, by kind.
public enum Imports {
    /// A file's observations, and what was skipped (by kind).
    public struct Imported: Sendable {
        public var batch: ObservationBatch
        public var skipped: [String: Int]
    }

    /// The formats imported, by the name `guarantor import` and `POST /import/{format}` take.
    public enum Format: String, CaseIterable, Sendable {
        case stix, acled, ucdp
    }

    /// A file of `format`, imported by `member` (the observations' originator); `source`: the sources.json source
    /// the observations come from (required for ACLED and UCDP, and for STIX sightings from outside Guarantor).
    public static func read(
        _ format: Format, _ bytes: [UInt8], member: String, source: String?, isKnownSource: (String) -> Bool
    ) -> Result<Imported, NDJSON.Rejection> {
        if format != .stix, source == nil {
            return rejected(
                0, "source", "an \(format.rawValue) file needs a source (--source or ?source=) from sources.json")
        }
        switch format {
        case .stix: return stix(bytes, member: member, source: source, isKnownSource: isKnownSource)
        case .acled: return acled(bytes, member: member, source: source!, isKnownSource: isKnownSource)
        case .ucdp: return ucdp(bytes, member: member, source: source!, isKnownSource: isKnownSource)
        }
    }

    /// One record converted: its place in the file, the observation's JSON, and the file's name for each field.
    struct Draft {
        var line: Int
        var json: [String: JSONValue]
        var names: [String: String]
    }

    /// Validates the drafts as observations (each error in the file's terms); all or nothing.
    static func finish(
        _ drafts: [Draft], errors found: [LineError], skipped: [String: Int], isKnownSource: (String) -> Bool
    ) -> Result<Imported, NDJSON.Rejection> {
        var errors = found
        var observations: [Observation] = []
        var lines: [Int] = []
        var firstLine: [String: Int] = [:]
        for d in drafts {
            do {
                let o = try Observation(json: .object(d.json), isKnownSource: isKnownSource)
                if let other = firstLine[o.id] {
                    errors.append(
                        LineError(
                            line: d.line, field: d.names["id"] ?? "id", reason: "duplicate id \(o.id) (also \(other))"))
                    continue
                }
                firstLine[o.id] = d.line
                observations.append(o)
                lines.append(d.line)
            } catch let e as FieldError {
                let root = String(e.path.prefix { $0 != "." && $0 != "[" })
                errors.append(
                    LineError(line: d.line, field: d.names[e.path] ?? d.names[root] ?? e.path, reason: e.reason))
            } catch {
                errors.append(LineError(line: d.line, field: "", reason: "\(error)"))
            }
        }
        if errors.isEmpty, observations.isEmpty {
            errors.append(LineError(line: 0, field: "", reason: "nothing in the file maps to an observation"))
        }
        guard errors.isEmpty else {
            let sorted = errors.sorted { $0.line < $1.line }
            return .failure(
                NDJSON.Rejection(errors: Array(sorted.prefix(NDJSON.maximumErrors)), totalErrors: sorted.count))
        }
        return .success(
            Imported(batch: ObservationBatch(observations: observations, lineNumbers: lines), skipped: skipped))
    }

    static func rejected(_ line: Int, _ field: String, _ reason: String) -> Result<Imported, NDJSON.Rejection> {
        .failure(NDJSON.Rejection(errors: [LineError(line: line, field: field, reason: reason)], totalErrors: 1))
    }

    // MARK: STIX 2.1

    /// TLP 1.0's OASIS marking definitions (what many MISP instances still write), by the TLP 2.0 level they are.
    static let tlp1: [String: TLP] = [
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": .clear,
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": .green,
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": .amber,
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": .red,
    ]

    /// A STIX 2.1 bundle's observations, imported by `member` (their originator):
    /// - each `field-observation` (Guarantor's own SCO) as it was written;
    /// - each other `sighting` placed by a `location` among its `where_sighted_refs`, and each other `observed-data`
    ///   placed by a `location` among its `object_refs` (and not already a sighting's): an observation from `source`,
    ///   of the kind named by `x_guarantor_kind` or a label (on it, or on what it is a sighting of);
    /// - everything else (Guarantor's incidents, reports, locations; indicators, malware, …): skipped.
    ///
    /// The marking is kept: TLP 2.0 or 1.0 (the most restrictive of those referenced; none: GREEN); a marking that is
    /// not a TLP is refused rather than dropped, since dropping it would widen who may read the record.
    public static func stix(
        _ bytes: [UInt8], member: String, source: String?, isKnownSource: (String) -> Bool
    ) -> Result<Imported, NDJSON.Rejection> {
        guard case .object(let bundle)? = try? JSONValue.parse(bytes) else {
            return rejected(0, "", "not a JSON object (a STIX 2.1 bundle is one)")
        }
        guard bundle["type"] == .string("bundle"), case .array(let objects)? = bundle["objects"] else {
            return rejected(0, "type", "not a STIX bundle: {\"type\":\"bundle\",\"objects\":[…]}")
        }
        var byId: [String: [String: JSONValue]] = [:]
        for case .object(let o) in objects { if case .string(let id)? = o["id"] { byId[id] = o } }
        var errors: [LineError] = []
        var drafts: [Draft] = []
        var skipped: [String: Int] = [:]

        func string(_ o: [String: JSONValue], _ key: String) -> String? {
            if case .string(let s)? = o[key] { s } else { nil }
        }
        func refs(_ o: [String: JSONValue], _ key: String) -> [String] {
            guard case .array(let list)? = o[key] else { return [] }
            return list.compactMap { if case .string(let s) = $0 { s } else { nil } }
        }
        func isGuarantorObservedData(_ id: String) -> Bool {
            guard let o = byId[id], string(o, "type") == "observed-data" else { return false }
            let r = refs(o, "object_refs")
            return !r.isEmpty && r.allSatisfy { $0.hasPrefix(STIXBundle.observationType + "--") }
        }
        func marking(_ o: [String: JSONValue], line: Int) -> TLP? {
            var levels: [TLP] = []
            for ref in refs(o, "object_marking_refs") {
                if let level = STIXBundle.markingIds.first(where: { $0.value == ref })?.key ?? tlp1[ref] {
                    levels.append(level)
                } else if let definition = byId[ref], case .object(let d)? = definition["definition"],
                    case .string(let name)? = d["tlp"],
                    let level = TLP(rawValue: name == "white" ? "CLEAR" : name.uppercased())
                {
                    levels.append(level)
                } else {
                    errors.append(
                        LineError(
                            line: line, field: "object_marking_refs",
                            reason: "\(ref) is not a TLP marking (2.0 or 1.0): it cannot be kept, and is not dropped"))
                }
            }
            return levels.max()
        }
        /// The place of a `location` among `ids`: longitude, latitude, uncertainty (its precision; 1,000 m without).
        func place(_ ids: [String]) -> [String: JSONValue]? {
            for id in ids {
                guard let l = byId[id], string(l, "type") == "location", let lat = l["latitude"],
                    let lon = l["longitude"]
                else { continue }
                let precision = l["precision"] ?? .number(1_000)
                return ["lon": lon, "lat": lat, "uncertaintyMeters": precision]
            }
            return nil
        }
        func kind(_ o: [String: JSONValue]) -> String? {
            if let k = string(o, "x_guarantor_kind") { return k }
            var labels = refs(o, "labels")
            if let of = string(o, "sighting_of_ref"), let target = byId[of] { labels += refs(target, "labels") }
            return labels.first { ObservationKind(rawValue: $0) != nil }
        }

        let sightedData = Set(
            objects.compactMap { v -> [String]? in
                guard case .object(let o) = v, string(o, "type") == "sighting",
                    place(refs(o, "where_sighted_refs")) != nil
                else { return nil }
                return refs(o, "observed_data_refs")
            }.joined())
        for (k, value) in objects.enumerated() {
            let line = k + 1
            guard case .object(let o) = value, let type = string(o, "type") else {
                errors.append(LineError(line: line, field: "type", reason: "not a STIX object with a type"))
                continue
            }
            let tlp = marking(o, line: line)
            var json: [String: JSONValue] = ["originator": .string(member)]
            if let tlp { json["tlp"] = .string(tlp.rawValue) }
            switch type {
            case STIXBundle.observationType:
                let names = [
                    "id": "observation_id", "observedAt": "observed_at", "location": "longitude",
                    "location.lat": "latitude", "location.uncertaintyMeters": "uncertainty_meters",
                    "reportedAt": "reported_at", "timeUncertaintySeconds": "time_uncertainty_seconds",
                    "weaponClass": "weapon_class", "bearingDegrees": "bearing_degrees", "origin": "origin_longitude",
                ]
                json["id"] = o["observation_id"]
                json["source"] = o["source"]
                json["observedAt"] = o["observed_at"]
                json["kind"] = o["kind"]
                json["location"] = .object([
                    "lon": o["longitude"] ?? .null, "lat": o["latitude"] ?? .null,
                    "uncertaintyMeters": o["uncertainty_meters"] ?? .null,
                ])
                for (ours, theirs) in [
                    ("reportedAt", "reported_at"), ("timeUncertaintySeconds", "time_uncertainty_seconds"),
                    ("weaponClass", "weapon_class"), ("count", "count"), ("credibility", "credibility"),
                    ("bearingDegrees", "bearing_degrees"), ("text", "text"), ("recipients", "recipients"),
                ] {
                    if let v = o[theirs] { json[ours] = v }
                }
                if o["origin_longitude"] != nil {
                    json["origin"] = .object([
                        "lon": o["origin_longitude"] ?? .null, "lat": o["origin_latitude"] ?? .null,
                        "uncertaintyMeters": o["origin_uncertainty_meters"] ?? .null,
                    ])
                }
                drafts.append(Draft(line: line, json: json, names: names))
            case "sighting", "observed-data":
                let sighting = type == "sighting"
                if sighting, refs(o, "observed_data_refs").contains(where: isGuarantorObservedData) {
                    skipped["\(type) (Guarantor's own)", default: 0] += 1
                    continue
                }
                if !sighting,
                    isGuarantorObservedData(string(o, "id") ?? "") || sightedData.contains(string(o, "id") ?? "")
                {
                    skipped["\(type) (Guarantor's own, or a sighting's)", default: 0] += 1
                    continue
                }
                guard let location = place(refs(o, sighting ? "where_sighted_refs" : "object_refs")) else {
                    skipped["\(type) without a location", default: 0] += 1
                    continue
                }
                guard let source else {
                    errors.append(
                        LineError(
                            line: line, field: "source",
                            reason:
                                "a \(type) from outside Guarantor needs a source (--source or ?source=): which of sources.json it comes from"
                        ))
                    continue
                }
                let first = sighting ? "first_seen" : "first_observed"
                let count = sighting ? "count" : "number_observed"
                json["id"] = .string("stix:" + (string(o, "id") ?? ""))
                json["source"] = .string(source)
                json["observedAt"] = o[first] ?? .null
                json["kind"] = kind(o).map(JSONValue.string) ?? .null
                json["location"] = .object(location)
                if let n = o[count] { json["count"] = n }
                if let text = string(o, "description") ?? string(o, "name") {
                    json["text"] = .string(String(text.prefix(Observation.maximumTextLength)))
                }
                drafts.append(
                    Draft(
                        line: line, json: json,
                        names: [
                            "id": "id", "observedAt": first, "count": count, "location": "location",
                            "location.lat": "latitude (of its location)", "location.lon": "longitude (of its location)",
                            "location.uncertaintyMeters": "precision (of its location)",
                            "kind":
                                "x_guarantor_kind or labels (one of \(ObservationKind.allCases.map(\.rawValue).joined(separator: ", ")))",
                        ]))
            default:
                skipped[type, default: 0] += 1
            }
        }
        return finish(drafts, errors: errors, skipped: skipped, isKnownSource: isKnownSource)
    }

    // MARK: CSV

    /// RFC 4180 CSV: records of fields (quoted fields may hold commas, quotes doubled, line breaks), with the line
    /// each record starts on.
    static func csvRecords(_ text: String) -> [(line: Int, fields: [String])] {
        var records: [(Int, [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var line = 1
        var start = 1
        var chars = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return chars.next()
        }
        var atStart = true
        while let c = next() {
            if quoted {
                if c == "\"" {
                    if let n = next() {
                        if n == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; pending = n }
                    } else {
                        quoted = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty: quoted = true; atStart = false
            case ",": fields.append(field); field = ""; atStart = false
            case "\r": continue
            case "\n":
                if !atStart || !field.isEmpty || !fields.isEmpty {
                    fields.append(field)
                    records.append((start, fields))
                }
                fields = []; field = ""; atStart = true
                line += 1
                start = line
            default: field.unicodeScalars.append(c); atStart = false
            }
        }
        if !atStart || !field.isEmpty || !fields.isEmpty {
            fields.append(field)
            records.append((start, fields))
        }
        return records
    }

    /// A table's rows as dictionaries by header name; `nil` and an error when a required column is missing.
    static func table(_ bytes: [UInt8], required: [String]) -> Result<
        [(line: Int, row: [String: String])], NDJSON.Rejection
    > {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(
                NDJSON.Rejection(errors: [LineError(line: 0, field: "", reason: "not UTF-8")], totalErrors: 1))
        }
        let records = csvRecords(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
        guard let header = records.first?.fields else {
            return .failure(
                NDJSON.Rejection(errors: [LineError(line: 0, field: "", reason: "the file is empty")], totalErrors: 1))
        }
        let missing = required.filter { !header.contains($0) }
        guard missing.isEmpty else {
            return .failure(
                NDJSON.Rejection(
                    errors: [
                        LineError(line: 1, field: missing.joined(separator: ", "), reason: "missing from the header")
                    ],
                    totalErrors: 1))
        }
        var rows: [(Int, [String: String])] = []
        var errors: [LineError] = []
        for r in records.dropFirst() {
            guard r.fields.count == header.count else {
                errors.append(
                    LineError(
                        line: r.line, field: "", reason: "\(r.fields.count) fields, the header has \(header.count)"))
                continue
            }
            rows.append((r.line, Dictionary(zip(header, r.fields), uniquingKeysWith: { a, _ in a })))
        }
        guard errors.isEmpty else {
            return .failure(
                NDJSON.Rejection(errors: Array(errors.prefix(NDJSON.maximumErrors)), totalErrors: errors.count))
        }
        return .success(rows)
    }

    /// A date as ACLED and UCDP write it (`2026-03-01`, or ACLED's older `01 March 2026`) at noon UTC, with its
    /// twelve hours of uncertainty either way; `nil` if it is neither.
    static func noon(_ text: String) -> Timestamp? {
        if let t = Timestamp(rfc3339: String(text.prefix(10)) + "T12:00:00Z") { return t }
        let months = [
            "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
            "November", "December",
        ]
        let parts = text.split(separator: " ")
        guard parts.count == 3, let day = Int(parts[0]), let m = months.firstIndex(of: String(parts[1])),
            let year = Int(parts[2])
        else { return nil }
        let iso = String(format: "%04d-%02d-%02dT12:00:00Z", year, m + 1, day)
        return Timestamp(rfc3339: iso)
    }

    static func number(_ text: String?) -> JSONValue {
        guard let text, let v = Double(text) else { return .string(text ?? "") }
        return .number(v)
    }

    /// ACLED's sub-event types as observation kinds (docs/FORMATS.md#acled-and-ucdp-import); the others (protests,
    /// riots, arrests, agreements, …) are skipped.
    public static let acledKinds: [String: ObservationKind] = [
        "Shelling/artillery/missile attack": .artilleryFire, "Armed clash": .smallArmsFire, "Attack": .smallArmsFire,
        "Air/drone strike": .explosion, "Remote explosive/landmine/IED": .explosion, "Grenade": .explosion,
        "Suicide bomb": .explosion, "Looting/property destruction": .infrastructureDamage,
        "Government regains territory": .troopMovement, "Non-state actor overtakes territory": .troopMovement,
        "Non-violent transfer of territory": .troopMovement,
    ]

    /// ACLED's geo_precision as an uncertainty: 1 (the place) 2 km, 2 (near it, its district) 25 km, 3 (a region)
    /// 100 km.
    public static let acledUncertainty: [String: Double] = ["1": 2_000, "2": 25_000, "3": 100_000]

    /// An ACLED CSV (ACLED's columns, by name) as open-source observations from `source`, marked CLEAR (ACLED's
    /// data are published): id `acled-` + event_id_cnty, on event_date at noon UTC (± 12 h), kind by sub-event type.
    public static func acled(_ bytes: [UInt8], member: String, source: String, isKnownSource: (String) -> Bool)
        -> Result<Imported, NDJSON.Rejection>
    {
        let required = ["event_id_cnty", "event_date", "sub_event_type", "latitude", "longitude", "geo_precision"]
        let rows: [(line: Int, row: [String: String])]
        switch table(bytes, required: required) {
        case .failure(let e): return .failure(e)
        case .success(let r): rows = r
        }
        var drafts: [Draft] = []
        var errors: [LineError] = []
        var skipped: [String: Int] = [:]
        for (line, row) in rows {
            let sub = row["sub_event_type"] ?? ""
            guard let kind = acledKinds[sub] else {
                skipped["ACLED \(sub.isEmpty ? "(no sub-event type)" : sub)", default: 0] += 1
                continue
            }
            guard let date = noon(row["event_date"] ?? "") else {
                errors.append(
                    LineError(
                        line: line, field: "event_date",
                        reason: "\"\(row["event_date"] ?? "")\" is not a date (2026-03-01)"))
                continue
            }
            guard let uncertainty = acledUncertainty[row["geo_precision"] ?? ""] else {
                errors.append(
                    LineError(
                        line: line, field: "geo_precision", reason: "\"\(row["geo_precision"] ?? "")\" is not 1, 2 or 3"
                    ))
                continue
            }
            let actors = [row["actor1"], row["actor2"]].compactMap { $0 }.filter { !$0.isEmpty }
            let text =
                "ACLED \(row["event_type"] ?? "") / \(sub)"
                + (actors.isEmpty ? "" : "; " + actors.joined(separator: " vs "))
                + "; fatalities \(row["fatalities"] ?? "0")"
                + ((row["notes"] ?? "").isEmpty ? "" : "; " + row["notes"]!)
            let json: [String: JSONValue] = [
                "id": .string("acled-" + (row["event_id_cnty"] ?? "")), "source": .string(source),
                "observedAt": .string(date.rfc3339), "timeUncertaintySeconds": .number(43_200),
                "kind": .string(kind.rawValue),
                "location": .object([
                    "lon": number(row["longitude"]), "lat": number(row["latitude"]),
                    "uncertaintyMeters": .number(uncertainty),
                ]),
                "tlp": .string(TLP.clear.rawValue), "originator": .string(member),
                "text": .string(String(text.prefix(Observation.maximumTextLength))),
            ]
            drafts.append(
                Draft(
                    line: line, json: json,
                    names: ["id": "event_id_cnty", "observedAt": "event_date", "location": "latitude/longitude"]))
        }
        return finish(drafts, errors: errors, skipped: skipped, isKnownSource: isKnownSource)
    }

    /// UCDP GED's where_prec as an uncertainty, metres (1 the exact place … 7 the country).
    public static let ucdpUncertainty: [String: Double] = [
        "1": 1_000, "2": 25_000, "3": 50_000, "4": 100_000, "5": 150_000, "6": 300_000, "7": 500_000,
    ]

    /// A UCDP GED CSV as open-source observations from `source`, marked CLEAR: each event a `casualty` (GED counts
    /// only events with a death) with `best` as its count, id `ucdp-` + id, on date_start at noon UTC (± 12 h; an
    /// event known only over several days keeps its first), placed with the uncertainty of where_prec.
    public static func ucdp(_ bytes: [UInt8], member: String, source: String, isKnownSource: (String) -> Bool)
        -> Result<Imported, NDJSON.Rejection>
    {
        let required = ["id", "date_start", "latitude", "longitude", "where_prec", "best"]
        let rows: [(line: Int, row: [String: String])]
        switch table(bytes, required: required) {
        case .failure(let e): return .failure(e)
        case .success(let r): rows = r
        }
        var drafts: [Draft] = []
        var errors: [LineError] = []
        for (line, row) in rows {
            guard let date = noon(row["date_start"] ?? "") else {
                errors.append(
                    LineError(
                        line: line, field: "date_start",
                        reason: "\"\(row["date_start"] ?? "")\" is not a date (2016-03-01)"))
                continue
            }
            guard let uncertainty = ucdpUncertainty[row["where_prec"] ?? ""] else {
                errors.append(
                    LineError(line: line, field: "where_prec", reason: "\"\(row["where_prec"] ?? "")\" is not 1…7"))
                continue
            }
            let text =
                "UCDP GED \(row["dyad_name"] ?? ""); \(row["where_description"] ?? ""); deaths best \(row["best"] ?? "")"
                + " (\(row["low"] ?? "")–\(row["high"] ?? ""))"
            let json: [String: JSONValue] = [
                "id": .string("ucdp-" + (row["id"] ?? "")), "source": .string(source),
                "observedAt": .string(date.rfc3339), "timeUncertaintySeconds": .number(43_200),
                "kind": .string(ObservationKind.casualty.rawValue),
                "location": .object([
                    "lon": number(row["longitude"]), "lat": number(row["latitude"]),
                    "uncertaintyMeters": .number(uncertainty),
                ]),
                "count": .number(max(1, Double(row["best"] ?? "") ?? 1)),
                "tlp": .string(TLP.clear.rawValue), "originator": .string(member),
                "text": .string(String(text.prefix(Observation.maximumTextLength))),
            ]
            drafts.append(
                Draft(
                    line: line, json: json,
                    names: ["id": "id", "observedAt": "date_start", "location": "latitude/longitude", "count": "best"]))
        }
        return finish(drafts, errors: errors, skipped: [:], isKnownSource: isKnownSource)
    }
}
