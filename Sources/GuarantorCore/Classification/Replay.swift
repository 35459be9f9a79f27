/// Deterministic batch processing (DESIGN §3.3): observations in arrival order in, output files' bytes out.
///
/// Runs on event time only; the same mission and input give the same bytes on any machine.
public enum Replay {
    /// The files a replay writes, by name.
    public struct Output: Sendable {
        /// `observations.ndjson`: each observation's classification, in input order.
        public var observations: [UInt8]
        /// `incidents.ndjson`, by (start, id).
        public var incidents: [UInt8]
        /// `violations.ndjson`, by (at, id).
        public var violations: [UInt8]
        /// `actions.ndjson`: every person's action (on incidents, findings or the guarantee), by (at, id), with its
        /// outcome.
        public var actions: [UInt8]
        /// `alerts.ndjson`, `obligations.ndjson` and `statements.ndjson` from the guarantee engine (empty without
        /// coalition.json and triggers.json).
        public var alerts: [UInt8]
        public var obligations: [UInt8]
        public var statements: [UInt8]
        /// `sanctions.ndjson`: sanctions packages activated and lifted, with the alert that caused each.
        public var sanctions: [UInt8]
        /// What the guarantee engine concluded, if the mission has one.
        public var guarantee: GuaranteeResults?
        /// `impediments.ndjson`: access denials, restrictions of movement and sensor gaps per kind, party and sector.
        public var impediments: [UInt8]
        /// The classifications themselves, in input order.
        public var classifications: [Classification]
        /// Observations that arrived later than the allowed lateness (kept, as incidents marked `late`).
        public var lateObservations: Int
        public var incidentCount: Int
        public var violationCount: Int
        /// Actions refused (e.g. a transition the state machine does not allow, or an unknown incident).
        public var refusedActions: Int
        /// Each action's outcome by id: `applied` or `refused: why`.
        public var outcomes: [String: String]
        /// The verification engine's results.
        public var verification: VerificationResults

        /// The files by name, in ``Replay/fileNames`` order.
        public var files: [(name: String, bytes: [UInt8])] {
            [
                ("observations.ndjson", observations), ("incidents.ndjson", incidents),
                ("violations.ndjson", violations), ("actions.ndjson", actions), ("impediments.ndjson", impediments),
                ("alerts.ndjson", alerts), ("obligations.ndjson", obligations), ("statements.ndjson", statements),
                ("sanctions.ndjson", sanctions),
            ]
        }
    }

    /// The files a replay writes, in order.
    public static let fileNames = [
        "observations.ndjson", "incidents.ndjson", "violations.ndjson", "actions.ndjson", "impediments.ndjson",
        "alerts.ndjson", "obligations.ndjson", "statements.ndjson", "sanctions.ndjson",
    ]

    /// The engine's options for a replay whose actions are known in advance: the groups they name are kept.
    public static func options(pinning actions: [MissionAction]) -> MissionEngine.Options {
        var options = MissionEngine.Options()
        for case .review(let a) in actions {
            options.pinnedIncidents.formUnion([a.target] + a.mergedIncidents)
            options.pinnedObservations.formUnion(a.splitObservations)
        }
        return options
    }

    /// Classifies, correlates, grades and adjudicates every observation of a batch, in order, then applies people's
    /// actions (by event time), through one ``MissionEngine``, and folds its changes into the output files.
    /// - Parameter progress: called with the number done so far, every `progressEvery` observations.
    public static func run(
        mission: Mission, batch: ObservationBatch, actions: [MissionAction] = [], progressEvery: Int = 100_000,
        progress: (Int) -> Void = { _ in }
    ) -> Output {
        var writer = JSONWriter(capacity: batch.observations.count * 200)
        var classifications: [Classification] = []
        classifications.reserveCapacity(batch.observations.count)
        var engine = MissionEngine(mission: mission, options: options(pinning: actions))
        for (i, observation) in batch.observations.enumerated() {
            let c = engine.add(observation)
            classifications.append(c)
            mission.classificationLine(id: observation.id, c, into: &writer)
            writer.newline()
            if (i + 1) % progressEvery == 0 { progress(i + 1) }
        }
        for action in actions { engine.add(action) }
        engine.finish()
        var fold = ResultFold(standingFindings: engine.standingFindings)
        fold.apply(engine.takeChanges())
        return output(
            mission: mission, fold: fold, actions: actions, observations: writer.bytes,
            classifications: classifications, lateObservations: engine.lateCount)
    }

    /// The output files of a finished engine's fold.
    public static func output(
        mission: Mission, fold: ResultFold, actions: [MissionAction], observations: [UInt8],
        classifications: [Classification], lateObservations: Int
    ) -> Output {
        let results = fold.verification
        let guarantee = fold.guarantee
        var actionWriter = JSONWriter()
        var answered: [(at: Timestamp, id: String, write: (inout JSONWriter) -> Void, outcome: String)] = []
        for (action, outcome) in results.actions {
            answered.append((action.at, action.id, { action.write(into: &$0, outcome: outcome) }, outcome))
        }
        let guaranteeActions = actions.compactMap { a -> GuaranteeAction? in
            if case .guarantee(let g) = a { return g }
            return nil
        }
        for (action, outcome) in guarantee?.actions
            ?? guaranteeActions.map({ ($0, "refused: the mission has no guarantee (coalition.json, triggers.json)") })
        {
            answered.append((action.at, action.id, { action.write(into: &$0, outcome: outcome) }, outcome))
        }
        for entry in answered.sorted(by: { ($0.at, $0.id) < ($1.at, $1.id) }) {
            entry.write(&actionWriter)
            actionWriter.newline()
        }
        let (incidentBytes, violationBytes) = Self.findingFiles(mission: mission, results)
        let (alertBytes, obligationBytes, statementBytes, sanctionBytes) =
            guarantee.map(Self.guaranteeFiles) ?? ([], [], [], [])
        return Output(
            observations: observations, incidents: incidentBytes, violations: violationBytes,
            actions: actionWriter.bytes, alerts: alertBytes, obligations: obligationBytes, statements: statementBytes,
            sanctions: sanctionBytes,
            guarantee: guarantee, impediments: impedimentFile(results.impediments), classifications: classifications,
            lateObservations: lateObservations,
            incidentCount: results.incidents.count, violationCount: results.violations.count,
            refusedActions: answered.filter { $0.outcome != "applied" }.count,
            outcomes: Dictionary(answered.map { ($0.id, $0.outcome) }, uniquingKeysWith: { first, _ in first }),
            verification: results)
    }

    /// The bytes of impediments.ndjson.
    public static func impedimentFile(_ counts: [ImpedimentCount]) -> [UInt8] {
        var w = JSONWriter()
        for count in counts {
            w.beginObject()
            w.key("kind"); w.string(count.kind.rawValue)
            w.key("party"); w.string(count.party)
            w.key("sector")
            if let sector = count.sector { w.string(sector) } else { w.null() }
            w.key("incidents"); w.int(count.incidents)
            w.key("observations"); w.int(count.observations)
            w.endObject()
            w.newline()
        }
        return w.bytes
    }

    /// The bytes of incidents.ndjson and violations.ndjson.
    public static func findingFiles(mission: Mission, _ results: VerificationResults) -> ([UInt8], [UInt8]) {
        var incidentWriter = JSONWriter(capacity: results.incidents.count * 300)
        for incident in results.incidents {
            mission.incidentLine(incident, into: &incidentWriter)
            incidentWriter.newline()
        }
        var violationWriter = JSONWriter(capacity: results.violations.count * 250)
        for violation in results.violations {
            violationLine(violation, into: &violationWriter)
            violationWriter.newline()
        }
        return (incidentWriter.bytes, violationWriter.bytes)
    }

    /// The result files a checkpoint's `results` digest covers, in order: incidents, violations, alerts,
    /// obligations, statements, sanctions — what `guarantor replay` writes for the same events.
    public static func resultFiles(
        mission: Mission, _ results: VerificationResults, _ guarantee: GuaranteeResults?
    ) -> [(name: String, bytes: [UInt8])] {
        let (incidents, violations) = findingFiles(mission: mission, results)
        let (alerts, obligations, statements, sanctions) = guarantee.map(guaranteeFiles) ?? ([], [], [], [])
        return [
            ("incidents.ndjson", incidents), ("violations.ndjson", violations), ("alerts.ndjson", alerts),
            ("obligations.ndjson", obligations), ("statements.ndjson", statements), ("sanctions.ndjson", sanctions),
        ]
    }

    /// One line of violations.ndjson.
    public static func violationLine(_ v: Violation, into w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(v.id)
        w.key("incidentId")
        if v.incidentId.isEmpty { w.null() } else { w.string(v.incidentId) }
        w.key("rule"); w.string(v.rule)
        w.key("severity"); w.string(v.severity.rawValue)
        w.key("attributedTo"); w.string(v.attributedTo)
        w.key("attributionBasis"); w.string(v.attributionBasis)
        if let p = v.attributionProbability { w.key("attributionProbability"); w.number(p) }
        w.key("zone")
        if let zone = v.zone { w.string(zone) } else { w.null() }
        w.key("distanceToLineMeters"); w.number(v.distanceToLineMeters, decimals: 2)
        w.key("at"); w.timestamp(v.at)
        w.key("certainty"); w.string(v.probability >= 0.975 ? "certain" : "probable")
        w.key("probability"); w.number(v.probability)
        w.key("sector")
        if let sector = v.sector { w.string(sector) } else { w.null() }
        w.key("incidentStatus"); w.string(v.incidentStatus.rawValue)
        if let t = v.verifiedAt { w.key("verifiedAt"); w.timestamp(t) }
        if let t = v.receivedLateAt {
            w.key("late"); w.bool(true)
            w.key("receivedAt"); w.timestamp(t)
            w.key("delaySeconds"); w.number(Double(t.nanoseconds - v.at.nanoseconds) / 1e9, decimals: 3)
            if let joined = v.joinsIncidentId { w.key("joinsIncidentId"); w.string(joined) }
        }
        w.key("endorsedBy")
        w.beginArray()
        for member in v.endorsedBy { w.string(member) }
        w.endArray()
        w.key("endorsed"); w.bool(v.endorsed)
        if let detail = v.detail { w.key("detail"); w.string(detail) }
        if !v.contests.isEmpty {
            w.key("contests")
            w.beginArray()
            for c in v.contests {
                w.beginObject()
                w.key("party"); w.string(c.actor.member)
                w.key("user"); w.string(c.actor.user)
                w.key("at"); w.timestamp(c.at)
                w.key("reason"); w.string(c.reason)
                w.endObject()
            }
            w.endArray()
        }
        w.endObject()
    }
}

extension Mission {
    /// One line of incidents.ndjson.
    public func incidentLine(_ i: Incident, into w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(i.id)
        w.key("observationIds")
        w.beginArray()
        for id in i.observationIds { w.string(id) }
        w.endArray()
        w.key("kind"); w.string(i.kind.rawValue)
        if let weapon = i.weaponClass { w.key("weaponClass"); w.string(weapon.rawValue) }
        w.key("location")
        w.beginObject()
        w.key("lon"); w.number(i.location.point.lon)
        w.key("lat"); w.number(i.location.point.lat)
        w.key("uncertaintyMeters"); w.number(i.location.uncertaintyMeters)
        w.endObject()
        w.key("start"); w.timestamp(i.start)
        w.key("end"); w.timestamp(i.end)
        w.key("status"); w.string(i.status.rawValue)
        if let t = i.verifiedAt { w.key("verifiedAt"); w.timestamp(t) }
        w.key("sector")
        if i.classification.sector >= 0 { w.string(sectors.names[Int(i.classification.sector)]) } else { w.null() }
        w.key("side"); w.string(agreement.parties[i.classification.party].id)
        w.key("distanceToLineMeters"); w.number(i.classification.distanceToLineMeters, decimals: 2)
        w.key("count"); w.int(i.count)
        w.key("sources")
        w.beginArray()
        for s in i.sources { w.string(s) }
        w.endArray()
        w.key("independentSources"); w.int(i.independentSources)
        w.key("credibility"); w.int(i.credibility)
        if i.late {
            w.key("late"); w.bool(true)
            if let t = i.receivedLateAt { w.key("receivedAt"); w.timestamp(t) }
            if let joined = i.joinsIncidentId { w.key("joinsIncidentId"); w.string(joined) }
        }
        if let between = i.ambiguousBetween {
            w.key("ambiguousBetween")
            w.beginArray()
            for id in between { w.string(id) }
            w.endArray()
        }
        if let review = i.lastReview {
            w.key("lastReview")
            w.beginObject()
            w.key("action"); w.string(review.kind.rawValue)
            w.key("id"); w.string(review.id)
            w.key("member"); w.string(review.actor.member)
            w.key("user"); w.string(review.actor.user)
            w.key("at"); w.timestamp(review.at)
            w.key("reason"); w.string(review.reason)
            w.endObject()
        }
        w.endObject()
    }
}
