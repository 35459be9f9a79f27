import Crypto

/// The record as a STIX 2.1 bundle (docs/FORMATS.md#stix-21), for one reader: what a member's MISP or OpenCTI
/// imports. Deterministic: every id is a UUIDv5 of the mission and the record's id, every time an event time, the
/// objects in one order, so the same log gives the same bytes.
///
/// - the mission, each coalition member, each party and each source organisation: an `identity`;
/// - each field observation the reader may read: a `field-observation` SCO, declared by this bundle's
///   `extension-definition` (`new-sco`), marked with its TLP;
/// - each incident: a `location` (precision from the uncertainty) and an `observed-data` of its observations;
/// - each verified violation: an `incident`, a `sighting` of it (first and last seen, count, where sighted), and an
///   `attributed-to` relationship to the party it is attributed to;
/// - each UTC day: a `report` of the day's objects.
///
/// Every SDO and SRO has `created_by_ref` (the mission) and `object_marking_refs`: the official TLP 2.0 marking
/// definitions, included verbatim, the most restrictive of the reports behind it.
public struct STIXBundle: Sendable {
    /// An incident as the reader sees it, with the observations of it the reader may read.
    public struct Item: Sendable {
        public var incident: ReportIncident
        public var observations: [Observation]

        public init(incident: ReportIncident, observations: [Observation]) {
            self.incident = incident
            self.observations = observations
        }
    }

    public let mission: Mission
    public let reader: ReportReader
    public let items: [Item]

    public init(mission: Mission, reader: ReportReader, items: [Item]) {
        self.mission = mission
        self.reader = reader
        self.items = items
    }

    // MARK: Constants

    /// The namespace of Guarantor's UUIDv5 ids (names are `mission|kind|record id`).
    public static let namespace: [UInt8] = [
        0x8e, 0x1c, 0x3f, 0x52, 0x7a, 0x64, 0x4b, 0x0d, 0x9f, 0x21, 0x5e, 0x6a, 0x0b, 0x43, 0x9c, 0xd7,
    ]

    /// The OASIS TLP 2.0 marking definitions (cti-stix-common-objects), by level.
    public static let markingIds: [TLP: String] = [
        .clear: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        .green: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        .amber: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        .amberStrict: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        .red: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    ]

    /// The official object of a TLP 2.0 marking definition, byte for byte as this bundle writes it (keys and values
    /// as OASIS publishes them; a test compares them with the canonical files).
    public static func markingDefinition(_ tlp: TLP) -> String {
        let name = tlp == .amberStrict ? "AMBER+STRICT" : tlp.rawValue
        return #"{"type":"marking-definition","spec_version":"2.1","id":"\#(markingIds[tlp]!)","#
            + #""created":"2022-10-01T00:00:00.000Z","name":"TLP:\#(name)","extensions":{"#
            + #""extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","#
            + #""tlp_2_0":"\#(name.lowercased())"}}}"#
    }

    /// The SCO type of a field observation.
    public static let observationType = "field-observation"

    // MARK: Ids and times

    /// `type--UUIDv5(namespace, "mission|type|id")`.
    func id(_ type: String, _ record: String) -> String {
        type + "--" + Self.uuid5(Array("\(mission.agreement.id)|\(type)|\(record)".utf8))
    }

    /// RFC 4122 version 5: SHA-1 of the namespace and the name, version and variant bits set.
    public static func uuid5(_ name: [UInt8], namespace: [UInt8] = namespace) -> String {
        var sha1 = Insecure.SHA1()
        sha1.update(data: namespace)
        sha1.update(data: name)
        var bytes = Array(sha1.finalize().prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        // 8-4-4-4-12 lowercase hex digits.
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { text.append(UInt8(ascii: "-")) }
            text.append(hexDigits[Int(b >> 4)])
            text.append(hexDigits[Int(b & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A STIX timestamp: RFC 3339 UTC with milliseconds (`2026-03-01T09:00:00.000Z`).
    public static func time(_ t: Timestamp) -> String {
        let millis = t.nanoseconds >= 0 ? t.nanoseconds / 1_000_000 : (t.nanoseconds - 999_999) / 1_000_000
        let whole = Timestamp(nanoseconds: (millis >= 0 ? millis / 1_000 : (millis - 999) / 1_000) * 1_000_000_000)
        let text = whole.rfc3339
        let fraction = ((millis % 1_000) + 1_000) % 1_000
        return String(text.dropLast()) + "." + String(String(fraction + 1_000).dropFirst()) + "Z"
    }

    // MARK: Writing

    /// One STIX object with what a TAXII server says of it.
    public struct Object: Sendable {
        public var id: String
        public var type: String
        /// TAXII's `date_added`: when the log held what the object says (the latest receipt time of the observations
        /// behind it, or the verification's time); the mission's effective time for the mission's own objects.
        public var added: Timestamp
        /// TAXII's version: the object's `modified` (`created` for a marking definition, `date_added` for an SCO).
        public var version: Timestamp
        /// The TLP it is marked with.
        public var marking: TLP
        /// The object's JSON.
        public var bytes: [UInt8]
    }

    /// The bundle, one object per line inside `objects` (so that a diff of two exports reads).
    public func json() -> [UInt8] {
        let objects = objects()
        var out: [UInt8] = []
        out.reserveCapacity(objects.reduce(200) { $0 + $1.bytes.count + 2 })
        out.append(contentsOf: #"{"type":"bundle","id":""#.utf8)
        out.append(contentsOf: id("bundle", reader.id).utf8)
        out.append(contentsOf: #"","objects":["#.utf8)
        for (k, o) in objects.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\n"))
            out.append(contentsOf: o.bytes)
        }
        out.append(contentsOf: "\n]}\n".utf8)
        return out
    }

    /// The bundle's objects in its order: the marking definitions, the identities, the extension definition, then
    /// incident by incident (by start), then the daily reports.
    public func objects() -> [Object] {
        let markingsCreated = Timestamp(seconds: 1_664_582_400)  // 2022-10-01T00:00:00Z, as OASIS published them
        let effectiveAt = mission.agreement.effectiveAt
        var objects: [Object] = TLP.allCases.map {
            Object(
                id: Self.markingIds[$0]!, type: "marking-definition", added: effectiveAt, version: markingsCreated,
                marking: .clear, bytes: Array(Self.markingDefinition($0).utf8))
        }
        let missionIdentity = id("identity", "mission")
        let effective = Self.time(effectiveAt)
        func common(_ w: inout JSONWriter, type: String, id: String, created: String, modified: String, tlp: TLP) {
            w.key("type"); w.string(type)
            w.key("spec_version"); w.string("2.1")
            w.key("id"); w.string(id)
            w.key("created_by_ref"); w.string(missionIdentity)
            w.key("created"); w.string(created)
            w.key("modified"); w.string(modified)
            w.key("object_marking_refs"); w.beginArray(); w.string(Self.markingIds[tlp]!); w.endArray()
        }

        // Who: the mission, the members, the parties, the sources' organisations (each once, by id).
        var identities: [(key: String, name: String, role: String)] = [
            ("mission", mission.agreement.title, "the monitoring and verification mission")
        ]
        var seen: Set<String> = ["mission"]
        for m in mission.coalition?.members ?? [] where seen.insert(m.id).inserted {
            identities.append((m.id, m.name, "coalition member (\(m.role))"))
        }
        for p in mission.agreement.parties where seen.insert(p.id).inserted {
            identities.append((p.id, p.name, "party to the agreement"))
        }
        for s in mission.sources.sources where seen.insert(s.organisation).inserted {
            identities.append((s.organisation, s.organisation, "source organisation"))
        }
        for i in identities {
            var w = JSONWriter()
            w.beginObject()
            let identityId = i.key == "mission" ? missionIdentity : id("identity", i.key)
            common(&w, type: "identity", id: identityId, created: effective, modified: effective, tlp: .clear)
            w.key("name"); w.string(i.name)
            w.key("description"); w.string("\(i.key): \(i.role)")
            w.key("identity_class"); w.string("organization")
            w.endObject()
            objects.append(
                Object(
                    id: identityId, type: "identity", added: effectiveAt, version: effectiveAt, marking: .clear,
                    bytes: w.bytes))
        }

        // The field observation's definition.
        let extensionId = id("extension-definition", Self.observationType)
        do {
            var w = JSONWriter()
            w.beginObject()
            common(
                &w, type: "extension-definition", id: extensionId, created: effective, modified: effective, tlp: .clear)
            w.key("name"); w.string("Guarantor field observation")
            w.key("description")
            w.string(
                "One report from a patrol, camera, UAV, acoustic or radar sensor, satellite, open source or party claim, as filed with the ceasefire monitoring mission."
            )
            w.key("schema")
            w.string(
                "A field-observation carries observation_id, source, observed_at, kind, longitude, latitude and uncertainty_meters, and where given reported_at, time_uncertainty_seconds, weapon_class, count, credibility (Admiralty 1-6), bearing_degrees, origin_longitude, origin_latitude, origin_uncertainty_meters, text, originator and recipients: Guarantor's observation (docs/FORMATS.md) in snake_case."
            )
            w.key("version"); w.string("1.0.0")
            w.key("extension_types"); w.beginArray(); w.string("new-sco"); w.endArray()
            w.endObject()
            objects.append(
                Object(
                    id: extensionId, type: "extension-definition", added: effectiveAt, version: effectiveAt,
                    marking: .clear, bytes: w.bytes))
        }

        var daily: [String: [String]] = [:]
        var dayMarking: [String: TLP] = [:]
        var dayEnd: [String: Timestamp] = [:]
        var dayAdded: [String: Timestamp] = [:]
        for item in items.sorted(by: { ($0.incident.start, $0.incident.id) < ($1.incident.start, $1.incident.id) }) {
            let i = item.incident
            guard !item.observations.isEmpty else { continue }
            let marking = item.observations.map { $0.tlp ?? .green }.max()!
            let day = String(i.start.rfc3339.prefix(10))
            var refs: [String] = []
            let created = Self.time(i.start)
            let added = max(
                item.observations.map { $0.receivedAt ?? $0.observedAt }.max()!, i.verifiedAt ?? i.start)
            // A new version whenever the log adds to it (a late report changes the objects, so `modified` moves).
            let modifiedAt = max(i.end ?? i.start, added)
            let modified = Self.time(modifiedAt)
            func append(_ type: String, _ id: String, _ w: JSONWriter) {
                objects.append(
                    Object(id: id, type: type, added: added, version: modifiedAt, marking: marking, bytes: w.bytes))
            }

            // The observations.
            var observationIds: [String] = []
            for o in item.observations.sorted(by: { ($0.observedAt, $0.id) < ($1.observedAt, $1.id) }) {
                let sco = id(Self.observationType, o.id)
                observationIds.append(sco)
                let received = o.receivedAt ?? o.observedAt
                objects.append(
                    Object(
                        id: sco, type: Self.observationType, added: received, version: received,
                        marking: o.tlp ?? .green, bytes: observationObject(o, id: sco, definedBy: extensionId)))
            }
            refs += observationIds

            // Where.
            let locationId = id("location", i.id)
            do {
                var w = JSONWriter()
                w.beginObject()
                common(&w, type: "location", id: locationId, created: created, modified: modified, tlp: marking)
                w.key("name"); w.string("\(i.id) (\(i.sector ?? "no sector"))")
                w.key("latitude"); w.number(i.point.lat, decimals: 6)
                w.key("longitude"); w.number(i.point.lon, decimals: 6)
                w.key("precision"); w.number(i.uncertaintyMeters, decimals: 1)
                w.key("region"); w.string("eastern-europe")
                w.key("country"); w.string("UA")
                w.endObject()
                append("location", locationId, w)
            }
            refs.append(locationId)

            // What was observed.
            let observedId = id("observed-data", i.id)
            let times = item.observations.map(\.observedAt)
            do {
                var w = JSONWriter()
                w.beginObject()
                common(&w, type: "observed-data", id: observedId, created: created, modified: modified, tlp: marking)
                w.key("first_observed"); w.string(Self.time(times.min()!))
                w.key("last_observed"); w.string(Self.time(times.max()!))
                w.key("number_observed"); w.int(item.observations.count)
                w.key("object_refs"); w.beginArray()
                for r in observationIds { w.string(r) }
                w.endArray()
                w.endObject()
                append("observed-data", observedId, w)
            }
            refs.append(observedId)

            // Each verified violation: an incident, its sighting, its attribution.
            if i.status == .verified {
                for f in i.violations {
                    let incidentId = id("incident", f.id)
                    var w = JSONWriter()
                    w.beginObject()
                    common(&w, type: "incident", id: incidentId, created: created, modified: modified, tlp: marking)
                    w.key("name"); w.string("\(f.rule): \(i.kind.rawValue) in \(i.sector ?? "no sector")")
                    w.key("description")
                    w.string(
                        "Verified ceasefire violation \(f.id) of incident \(i.id): rule \(f.rule), severity "
                            + "\(f.severity.rawValue), attributed to \(f.party)"
                            + (f.zone.map { ", zone \($0)" } ?? "") + (f.detail.map { "; \($0)" } ?? ""))
                    w.key("labels"); w.beginArray()
                    for l in ["ceasefire-violation", f.severity.rawValue, i.kind.rawValue] { w.string(l) }
                    w.endArray()
                    w.key("external_references"); w.beginArray(); w.beginObject()
                    w.key("source_name"); w.string("guarantor")
                    w.key("external_id"); w.string(f.id)
                    w.endObject(); w.endArray()
                    w.endObject()
                    append("incident", incidentId, w)

                    let sightingId = id("sighting", f.id)
                    var s = JSONWriter()
                    s.beginObject()
                    common(&s, type: "sighting", id: sightingId, created: created, modified: modified, tlp: marking)
                    s.key("first_seen"); s.string(Self.time(times.min()!))
                    s.key("last_seen"); s.string(Self.time(times.max()!))
                    s.key("count"); s.int(item.observations.count)
                    s.key("sighting_of_ref"); s.string(incidentId)
                    s.key("observed_data_refs"); s.beginArray(); s.string(observedId); s.endArray()
                    s.key("where_sighted_refs"); s.beginArray(); s.string(locationId); s.endArray()
                    s.endObject()
                    append("sighting", sightingId, s)
                    refs += [incidentId, sightingId]

                    if seen.contains(f.party) {
                        let relationshipId = id("relationship", f.id + "|attributed-to")
                        var r = JSONWriter()
                        r.beginObject()
                        common(
                            &r, type: "relationship", id: relationshipId, created: created, modified: modified,
                            tlp: marking)
                        r.key("relationship_type"); r.string("attributed-to")
                        r.key("source_ref"); r.string(incidentId)
                        r.key("target_ref"); r.string(id("identity", f.party))
                        r.endObject()
                        append("relationship", relationshipId, r)
                        refs.append(relationshipId)
                    }
                }
            }
            daily[day, default: []] += refs
            dayMarking[day] = max(dayMarking[day] ?? .clear, marking)
            dayAdded[day] = max(dayAdded[day] ?? added, added)
            let seconds = i.start.nanoseconds / 1_000_000_000
            dayEnd[day] = Timestamp(seconds: (seconds - ((seconds % 86_400) + 86_400) % 86_400) + 86_400)
        }

        // A report per day of what it holds.
        for day in daily.keys.sorted() {
            let publishedAt = dayEnd[day]!
            let published = Self.time(publishedAt)
            let versionAt = max(publishedAt, dayAdded[day]!)
            let reportId = id("report", day)
            var w = JSONWriter()
            w.beginObject()
            common(
                &w, type: "report", id: reportId, created: published, modified: Self.time(versionAt),
                tlp: dayMarking[day]!)
            w.key("name"); w.string("\(mission.agreement.title): the record of \(day) (UTC) for \(reader.id)")
            w.key("report_types"); w.beginArray(); w.string("observed-data"); w.endArray()
            w.key("published"); w.string(published)
            w.key("object_refs"); w.beginArray()
            for r in daily[day]! { w.string(r) }
            w.endArray()
            w.endObject()
            objects.append(
                Object(
                    id: reportId, type: "report", added: dayAdded[day]!, version: versionAt,
                    marking: dayMarking[day]!, bytes: w.bytes))
        }
        return objects
    }

    /// A field observation as a `field-observation` SCO.
    func observationObject(_ o: Observation, id: String, definedBy definition: String) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("type"); w.string(Self.observationType)
        w.key("spec_version"); w.string("2.1")
        w.key("id"); w.string(id)
        w.key("object_marking_refs"); w.beginArray(); w.string(Self.markingIds[o.tlp ?? .green]!); w.endArray()
        w.key("extensions"); w.beginObject()
        w.key(dynamic: definition); w.beginObject(); w.key("extension_type"); w.string("new-sco"); w.endObject()
        w.endObject()
        w.key("observation_id"); w.string(o.id)
        w.key("source"); w.string(o.source)
        w.key("observed_at"); w.string(Self.time(o.observedAt))
        w.key("kind"); w.string(o.kind.rawValue)
        w.key("longitude"); w.number(o.location.point.lon)
        w.key("latitude"); w.number(o.location.point.lat)
        w.key("uncertainty_meters"); w.number(o.location.uncertaintyMeters)
        if let t = o.reportedAt { w.key("reported_at"); w.string(Self.time(t)) }
        if o.timeUncertaintySeconds != 0 { w.key("time_uncertainty_seconds"); w.number(o.timeUncertaintySeconds) }
        if let v = o.weaponClass { w.key("weapon_class"); w.string(v.rawValue) }
        if let v = o.count { w.key("count"); w.int(v) }
        if let v = o.credibility { w.key("credibility"); w.int(v) }
        if let v = o.bearingDegrees { w.key("bearing_degrees"); w.number(v) }
        if let origin = o.origin {
            w.key("origin_longitude"); w.number(origin.point.lon)
            w.key("origin_latitude"); w.number(origin.point.lat)
            w.key("origin_uncertainty_meters"); w.number(origin.uncertaintyMeters)
        }
        if let v = o.text { w.key("text"); w.string(v) }
        if let v = o.originator { w.key("originator"); w.string(v) }
        if !o.recipients.isEmpty {
            w.key("recipients"); w.beginArray()
            for r in o.recipients { w.string(r) }
            w.endArray()
        }
        w.endObject()
        return w.bytes
    }
}
