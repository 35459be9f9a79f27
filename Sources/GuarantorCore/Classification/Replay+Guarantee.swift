extension Replay {
    /// The bytes of alerts.ndjson, obligations.ndjson, statements.ndjson and sanctions.ndjson.
    public static func guaranteeFiles(_ g: GuaranteeResults) -> ([UInt8], [UInt8], [UInt8], [UInt8]) {
        var alerts = JSONWriter()
        for a in g.alerts {
            alertLine(a, into: &alerts)
            alerts.newline()
        }
        var obligations = JSONWriter()
        for o in g.obligations {
            obligationLine(o, into: &obligations)
            obligations.newline()
        }
        var statements = JSONWriter()
        for s in g.statements {
            statements.beginObject()
            statements.key("id"); statements.string(s.id)
            statements.key("alertId"); statements.string(s.alertId)
            statements.key("sector"); optional(s.sector, into: &statements)
            statements.key("draftedAt"); statements.timestamp(s.draftedAt)
            statements.key("members"); strings(s.members, into: &statements)
            statements.key("signedBy"); strings(s.signedBy, into: &statements)
            statements.key("declinedBy"); strings(s.declinedBy, into: &statements)
            statements.key("markdown"); statements.string(s.markdown)
            statements.endObject()
            statements.newline()
        }
        var sanctions = JSONWriter()
        for e in g.sanctions {
            sanctions.beginObject()
            sanctions.key("package"); sanctions.string(e.package)
            sanctions.key("activated"); sanctions.bool(e.activated)
            sanctions.key("at"); sanctions.timestamp(e.at)
            sanctions.key("alertId"); sanctions.string(e.alertId)
            sanctions.endObject()
            sanctions.newline()
        }
        return (alerts.bytes, obligations.bytes, statements.bytes, sanctions.bytes)
    }

    /// One line of alerts.ndjson.
    public static func alertLine(_ a: Alert, into w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(a.id)
        w.key("kind"); w.string(a.kind.rawValue)
        w.key("triggerId"); w.string(a.triggerId)
        w.key("level"); w.int(a.level)
        w.key("firedAt"); w.timestamp(a.firedAt)
        w.key("sector"); optional(a.sector, into: &w)
        w.key("violationIds"); strings(a.violationIds, into: &w)
        w.key("provisional"); w.bool(a.provisional)
        if let party = a.party { w.key("party"); w.string(party) }
        if let member = a.member { w.key("member"); w.string(member) }
        if let id = a.obligationId { w.key("obligationId"); w.string(id) }
        if let id = a.pledgeId { w.key("pledgeId"); w.string(id) }
        if let site = a.site { w.key("site"); w.string(site) }
        w.key("detail"); w.string(a.detail)
        w.endObject()
    }

    /// One line of obligations.ndjson.
    public static func obligationLine(_ o: Obligation, into w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(o.id)
        w.key("alertId"); w.string(o.alertId)
        w.key("member"); w.string(o.member)
        w.key("responseId"); w.string(o.responseId)
        w.key("kind"); w.string(o.kind.rawValue)
        w.key("pillar"); w.string(o.pillar.rawValue)
        w.key("level"); w.int(o.level)
        w.key("sector"); optional(o.sector, into: &w)
        w.key("createdAt"); w.timestamp(o.createdAt)
        w.key("deadline"); w.timestamp(o.deadline)
        w.key("status"); w.string(o.status.rawValue)
        w.key("statusAt"); w.timestamp(o.statusAt)
        if let t = o.acknowledgedAt { w.key("acknowledgedAt"); w.timestamp(t) }
        if let r = o.reference { w.key("reference"); w.string(r) }
        if let r = o.reason { w.key("reason"); w.string(r) }
        if o.late { w.key("late"); w.bool(true) }
        w.endObject()
    }

    static func optional(_ s: String?, into w: inout JSONWriter) {
        if let s { w.string(s) } else { w.null() }
    }

    static func strings(_ list: [String], into w: inout JSONWriter) {
        w.beginArray()
        for s in list { w.string(s) }
        w.endArray()
    }
}

extension Alert {
    /// An alert read back from its line in `alerts.ndjson` (``Replay/alertLine(_:into:)``); `nil` if it is not one.
    public init?(line: [UInt8]) {
        guard case .object(let o)? = try? JSONValue.parse(line) else { return nil }
        func string(_ key: String) -> String? { if case .string(let s)? = o[key] { s } else { nil } }
        guard let id = string("id"), let kind = string("kind").flatMap(Kind.init(rawValue:)),
            let trigger = string("triggerId"), case .number(let level)? = o["level"],
            let firedAt = string("firedAt").flatMap(Timestamp.init(rfc3339:)),
            case .array(let ids)? = o["violationIds"],
            case .bool(let provisional)? = o["provisional"], let detail = string("detail")
        else { return nil }
        self.init(
            id: id, kind: kind, triggerId: trigger, level: Int(level), firedAt: firedAt, sector: string("sector"),
            violationIds: ids.compactMap { if case .string(let s) = $0 { s } else { nil } }, provisional: provisional,
            party: string("party"), member: string("member"), obligationId: string("obligationId"),
            pledgeId: string("pledgeId"), site: string("site"), detail: detail)
    }
}
