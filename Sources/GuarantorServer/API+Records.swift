import Foundation
import GuarantorCore
import GuarantorStore
import Hummingbird

/// Incidents, findings, the review queues and the guarantee, each as the reader's member may see it.
extension GuarantorAPI {
    /// A place in the (start, id) order of incidents: `START_NANOSECONDS:ID`, as `next` gives it.
    static func cursor(_ text: String) throws -> (Int64, String) {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let start = Int64(parts[0]), !parts[1].isEmpty else {
            throw APIError(.badRequest, "after: \"\(text)\" is not a cursor from `next`")
        }
        return (start, String(parts[1]))
    }

    static func cursorText(_ shown: ResultView.Shown) -> String { "\(shown.start):\(shown.id)" }

    static func limit(_ request: Request) throws -> Int {
        guard request.uri.queryParameters.get("limit") != nil else { return 1_000 }
        return try integer(request, "limit", in: 1...100_000)
    }

    static func status(_ request: Request) throws -> IncidentStatus? {
        try request.uri.queryParameters.get("status").map { s in
            guard let status = IncidentStatus(rawValue: s) else {
                throw APIError(.badRequest, "status: \"\(s)\" is not one of \(IncidentStatus.allCases.map(\.rawValue))")
            }
            return status
        }
    }

    /// A query parameter that must be one of an enumeration's values.
    static func enumeration<E: RawRepresentable & CaseIterable>(_ request: Request, _ name: String, _: E.Type) throws
        -> E? where E.RawValue == String
    {
        try request.uri.queryParameters.get(name).map { text in
            guard let value = E(rawValue: text) else {
                throw APIError(
                    .badRequest,
                    "\(name): \"\(text)\" is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return value
        }
    }

    /// What an incident's filters on content ask for: its kind and weapon class, and a finding of a severity and
    /// attributed to a party (both on the same finding when both are given).
    struct ContentFilter: Sendable {
        var kind: ObservationKind?
        var weaponClass: WeaponClass?
        var severity: Severity?
        var party: String?
        /// `true`: only reports two incidents explain about equally (``Incident/ambiguousBetween``), for analysts to
        /// place; `false`: only the others.
        var ambiguous: Bool?

        var isEmpty: Bool { kind == nil && weaponClass == nil && severity == nil && party == nil && ambiguous == nil }

        /// Whether the incident as shown passes (read from its lines: these filters are not indexed).
        func passes(_ i: ResultView.Shown) -> Bool {
            if isEmpty { return true }
            guard case .object(let m) = try? JSONValue.parse(i.line) else { return false }
            if let kind, m["kind"] != .string(kind.rawValue) { return false }
            if let weaponClass, m["weaponClass"] != .string(weaponClass.rawValue) { return false }
            if let ambiguous, (m["ambiguousBetween"] != nil) != ambiguous { return false }
            guard severity != nil || party != nil else { return true }
            return i.findings.split(separator: 0x0A).contains { line in
                guard case .object(let f) = try? JSONValue.parse(Array(line)) else { return false }
                return (severity == nil || f["severity"] == .string(severity!.rawValue))
                    && (party == nil || f["attributedTo"] == .string(party!))
            }
        }
    }

    func incidents(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        try Self.allowParameters(
            request,
            [
                "status", "from", "to", "bbox", "sector", "kind", "weaponClass", "severity", "party", "ambiguous",
                "limit", "after",
            ])
        let q = request.uri.queryParameters
        let parties = state.mission.agreement.parties.map(\.id) + ["unattributed"]
        var filterOnContent = ContentFilter()
        filterOnContent.kind = try Self.enumeration(request, "kind", ObservationKind.self)
        filterOnContent.weaponClass = try Self.enumeration(request, "weaponClass", WeaponClass.self)
        filterOnContent.severity = try Self.enumeration(request, "severity", Severity.self)
        filterOnContent.party = try q.get("party").map { p in
            guard parties.contains(p) else {
                throw APIError(.badRequest, "party: \"\(p)\" is not one of \(parties.joined(separator: ", "))")
            }
            return p
        }
        filterOnContent.ambiguous = try q.get("ambiguous").map { text in
            guard let value = Bool(text) else {
                throw APIError(.badRequest, "ambiguous: \"\(text)\" is not true or false")
            }
            return value
        }
        let content = filterOnContent
        let status = try Self.status(request)
        let from = try q.get("from").map { try Self.time($0, "from") }
        let to = try q.get("to").map { try Self.time($0, "to") }
        let bbox = try q.get("bbox").map(Self.bbox)
        let sector = q.get("sector")
        let limit = try Self.limit(request)
        let after = try q.get("after").map(Self.cursor)
        var filter = EventStore.SealedFilter()
        filter.status = status?.rawValue
        filter.endsFrom = from?.nanoseconds
        filter.startsTo = to?.nanoseconds
        filter.box = bbox.map { ($0.minLon, $0.minLat, $0.maxLon, $0.maxLat) }
        // What the reader sees is filtered: its part of an incident may lie elsewhere than the whole.
        let shown = try await state.incidents(
            for: caller.member, after: after, filter: filter, limit: limit + 1
        ) { i in
            (from == nil || i.end >= from!.nanoseconds) && (to == nil || i.start <= to!.nanoseconds)
                && (sector == nil || i.sector == sector) && (bbox == nil || bbox!.contains(i.point))
                && content.passes(i)
        }
        let page = shown.prefix(limit)
        let restricted = page.filter(\.restricted).count
        if restricted > 0 { try audit(caller, "/incidents", records: restricted) }
        var w = JSONWriter()
        w.beginObject()
        w.key("incidents")
        w.beginArray()
        for i in page { w.raw(i.line) }
        w.endArray()
        w.key("next")
        if shown.count > limit, let last = page.last { w.string(Self.cursorText(last)) } else { w.null() }
        w.endObject()
        return Self.json(w.bytes)
    }

    /// The observations behind an incident, those the reader may read (the incident itself must be one it may see).
    func incidentObservations(_ request: Request, _ caller: EventStore.KeyHolder, id: String) async throws
        -> Response
    {
        try Self.noParameters(request)
        guard let shown = try await state.incident(id, for: caller.member),
            case .object(let m) = try JSONValue.parse(shown.line), case .array(let ids) = m["observationIds"]
        else {
            throw APIError(.notFound, "no incident \(id) that you may read")
        }
        let observationIds = ids.compactMap { id -> String? in if case .string(let s) = id { s } else { nil } }
        let observations = try state.store.observations(ids: observationIds).filter {
            Releasability.canRead(member: caller.member, $0)
        }
        let restricted = observations.filter { ($0.tlp ?? TLP.clear) >= TLP.amber }.count
        if restricted > 0 { try audit(caller, "/incidents/\(id)/observations", records: restricted) }
        var w = JSONWriter()
        w.beginObject()
        w.key("incident"); w.string(id)
        w.key("observations")
        w.beginArray()
        for o in observations { w.raw(o.canonicalJSON) }
        w.endArray()
        w.endObject()
        return Self.json(w.bytes)
    }

    /// Access denials, restrictions of movement and sensor gaps per kind, party and sector, counted from the
    /// impediment incidents the reader may see, each from the reports it may read (so a restricted report is
    /// counted only for whom it is released to). Not indexed: a walk of the record.
    func impediments(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        try Self.noParameters(request)
        let shown = try await state.incidents(for: caller.member, after: nil, filter: .init(), limit: .max) { i in
            guard case .object(let m) = try? JSONValue.parse(i.line), case .string(let kind) = m["kind"] else {
                return false
            }
            return ObservationKind(rawValue: kind)?.group == .impediment
        }
        let counts = try ResultView.impediments(
            among: shown, for: caller.member, mission: state.mission, store: state.store)
        let restricted = shown.filter(\.restricted).count
        if restricted > 0 { try audit(caller, "/impediments", records: restricted) }
        return Self.list("impediments", ndjson: Replay.impedimentFile(counts))
    }

    /// `{"KEY": [...]}` from lines of NDJSON.
    static func list(_ key: String, ndjson lines: [UInt8]) -> Response {
        var w = JSONWriter()
        w.beginObject()
        w.key(dynamic: key)
        w.beginArray()
        for line in lines.split(separator: 0x0A) { w.raw(Array(line)) }
        w.endArray()
        w.endObject()
        return Self.json(w.bytes)
    }

    func sanctions(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        try Self.noParameters(request)
        let lines = await state.guarantee().map { Replay.guaranteeFiles($0).3 } ?? []
        guard caller == .publicReader else { return Self.list("sanctions", ndjson: lines) }
        // The public sees a package's activation or lifting only when it sees the alert behind it.
        let shown = Set(try await shownAlerts(for: caller.member).map(\.id))
        var kept: [UInt8] = []
        for line in lines.split(separator: 0x0A) {
            guard case .object(let m) = try JSONValue.parse(Array(line)), case .string(let alert) = m["alertId"],
                shown.contains(alert)
            else { continue }
            kept += line + [0x0A]
        }
        return Self.list("sanctions", ndjson: kept)
    }

    func queue(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        try Self.allowParameters(request, ["limit"])
        let limit = try Self.limit(request)
        var queues: [String: [String]] = [:]
        for status in IncidentStatus.allCases {
            var filter = EventStore.SealedFilter()
            filter.status = status.rawValue
            queues[status.rawValue] = try await state.incidents(
                for: caller.member, after: nil, filter: filter, limit: limit
            ) { _ in true }.map(\.id)
        }
        var w = JSONWriter()
        w.beginObject()
        for status in IncidentStatus.allCases {
            w.key(dynamic: status.rawValue)
            w.beginArray()
            for id in queues[status.rawValue] ?? [] { w.string(id) }
            w.endArray()
        }
        w.endObject()
        return Self.json(w.bytes)
    }

    func violations(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        try Self.allowParameters(request, ["status", "limit", "after"])
        let status = try Self.status(request)
        let limit = try Self.limit(request)
        let after = try request.uri.queryParameters.get("after").map(Self.cursor)
        var filter = EventStore.SealedFilter()
        filter.status = status?.rawValue
        var lines: [UInt8] = []
        var count = 0
        var restricted = 0
        var next: String?
        var w = JSONWriter()
        if after == nil {
            for v in state.standingFindings.sorted(by: { $0.id < $1.id })
            where status == nil || v.incidentStatus == status {
                Replay.violationLine(v, into: &w)
                w.newline()
                count += 1
            }
            lines = w.bytes
        }
        var cursor = after
        paging: while true {
            let page = try await state.incidents(for: caller.member, after: cursor, filter: filter, limit: 1_000) {
                !$0.findingIds.isEmpty
            }
            for i in page {
                if count >= limit {
                    next = cursor.map { "\($0.0):\($0.1)" }
                    break paging
                }
                lines += i.findings
                count += i.findingIds.count
                if i.restricted { restricted += 1 }
                cursor = (i.start, i.id)
            }
            if page.count < 1_000 { break }
        }
        if restricted > 0 { try audit(caller, "/violations", records: restricted) }
        var out = JSONWriter()
        out.beginObject()
        out.key("violations")
        out.beginArray()
        for line in lines.split(separator: 0x0A) { out.raw(Array(line)) }
        out.endArray()
        out.key("next")
        if let next { out.string(next) } else { out.null() }
        out.endObject()
        return Self.json(out.bytes)
    }

    /// An alert as a reader sees it: only the findings it may read, and no id of an incident it may not (an alert
    /// itself is for every member: a tripwire alert resting on a RED report still reaches all of them).
    /// A trigger alert's detail counts the incidents it rests on, so when any is withheld it says only which trigger
    /// fired: the count of records a reader may not read is not the reader's to know.
    static func shown(_ alert: Alert, readable: Set<String>) -> Alert {
        var shown = alert
        shown.violationIds = []
        for id in alert.violationIds {
            if readable.contains(id) {
                shown.violationIds.append(id)
            } else if let incident = ResultView.incident(ofFinding: id) {
                shown.detail = shown.detail.replacingOccurrences(of: incident, with: "(withheld)")
            }
        }
        if shown.violationIds.count < alert.violationIds.count && alert.kind == .trigger {
            shown.detail = "violations matching \(alert.triggerId); details rest on reports not released to you"
        }
        return shown
    }

    /// Whether the public view shows an alert: it rests on findings, and the public may read every one. Alerts about
    /// members' obligations and deliveries (overdue, continuity) rest on none and are the coalition's business; a
    /// trigger or tripwire alert resting on a hidden report would say that the report exists, and where.
    static func isPublic(_ alert: Alert, readable: Set<String>) -> Bool {
        !alert.violationIds.isEmpty && alert.violationIds.allSatisfy(readable.contains)
    }

    /// The alerts the public is told of, in the order raised: those ``isPublic(_:readable:)`` allows, and a
    /// de-escalation when it lowers a level the public saw (so the public's levels come down too, while a level
    /// raised on a hidden report is not revealed by its coming down).
    static func publicAlerts(_ alerts: [Alert], readable: Set<String>) -> [Alert] {
        var level: [String: Int] = [:]
        return alerts.filter { alert in
            let scope = alert.sector ?? ""
            if alert.kind == .deescalation {
                guard (level[scope] ?? 0) > alert.level else { return false }
            } else if !isPublic(alert, readable: readable) {
                return false
            }
            level[scope] = alert.level
            return true
        }
    }

    /// `alerts` as `member` sees them: each ``shown(_:readable:)``, and for the public only ``publicAlerts``.
    static func shownAlerts(_ alerts: [Alert], readable: Set<String>, member: String) -> [Alert] {
        let told = member == Releasability.publicReader ? publicAlerts(alerts, readable: readable) : alerts
        return told.map { shown($0, readable: readable) }
    }

    /// The alerts, as a member sees them.
    func shownAlerts(for member: String) async throws -> [Alert] {
        let alerts = await state.guarantee()?.alerts ?? []
        let readable = try await state.readable(findings: alerts.flatMap(\.violationIds), by: member)
        return Self.shownAlerts(alerts, readable: readable, member: member)
    }

    func alerts(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        try Self.noParameters(request)
        var w = JSONWriter()
        w.beginObject()
        w.key("alerts")
        w.beginArray()
        for a in try await shownAlerts(for: caller.member) { Replay.alertLine(a, into: &w) }
        w.endArray()
        w.endObject()
        return Self.json(w.bytes)
    }

    func obligations(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        try Self.allowParameters(request, ["member"])
        let member = request.uri.queryParameters.get("member")
        var w = JSONWriter()
        w.beginObject()
        w.key("obligations")
        w.beginArray()
        for o in await state.guarantee()?.obligations ?? [] where member == nil || o.member == member {
            Replay.obligationLine(o, into: &w)
        }
        w.endArray()
        w.endObject()
        return Self.json(w.bytes)
    }

    func statements(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        try Self.noParameters(request)
        let statements = await state.guarantee()?.statements ?? []
        let readable = try await state.readable(findings: statements.flatMap(\.violationIds), by: caller.member)
        var w = JSONWriter()
        w.beginObject()
        w.key("statements")
        w.beginArray()
        for s in statements {
            w.beginObject()
            w.key("id"); w.string(s.id)
            w.key("alertId"); w.string(s.alertId)
            w.key("signedBy"); w.beginArray(); for m in s.signedBy { w.string(m) }; w.endArray()
            w.key("declinedBy"); w.beginArray(); for m in s.declinedBy { w.string(m) }; w.endArray()
            // The text states verified findings; a reader sees it only if it may read every one of them.
            w.key("markdown")
            if s.violationIds.allSatisfy(readable.contains) { w.string(s.markdown) } else { w.null() }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return Self.json(w.bytes)
    }
}
