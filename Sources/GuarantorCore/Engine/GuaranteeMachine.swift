import Foundation

/// What the guarantee engine is fed from verification and from people: a finding known at a moment, a strike on a
/// protected site, or a member's answer, delivery or clock event.
enum GuaranteeInput: Sendable {
    case violation(Violation)
    case tripwire(Strike, provisional: Bool, at: Timestamp)
    case action(GuaranteeAction)

    /// The order of events: event time, then kind (findings, strikes, actions, deadlines, quiet periods, logistics),
    /// then the events' own keys — never the order in which they were fed.
    var key: EventKey {
        switch self {
        case .violation(let v): EventKey(GuaranteeMachine.knownAt(v).nanoseconds, 0, v.at.nanoseconds, v.id)
        case .tripwire(let s, _, let at): EventKey(at.nanoseconds, 1, s.start.nanoseconds, s.incidentId)
        case .action(let a): EventKey(a.at.nanoseconds, 2, 0, a.id)
        }
    }

    var time: Int64 { key.time }
}

/// An incident on a protected site, as the tripwire needs it.
struct Strike: Sendable, Equatable {
    var incidentId: String
    var kind: ObservationKind
    var start: Timestamp
    var sector: Int32
    var site: ProtectedSite
    /// The incident's findings, by id.
    var findings: [String]
}

/// The total order of the guarantee engine's events.
struct EventKey: Comparable, Sendable {
    var time: Int64
    var order: Int
    var tieTime: Int64
    var tieId: String

    init(_ time: Int64, _ order: Int, _ tieTime: Int64, _ tieId: String) {
        self.time = time
        self.order = order
        self.tieTime = tieTime
        self.tieId = tieId
    }

    static func < (l: EventKey, r: EventKey) -> Bool {
        if l.time != r.time { return l.time < r.time }
        if l.order != r.order { return l.order < r.order }
        if l.tieTime != r.tieTime { return l.tieTime < r.tieTime }
        return l.tieId < r.tieId
    }
}

/// The guarantee engine's state between inputs (DESIGN §2.3–2.5): levels, windows of findings not yet counted,
/// obligations and their deadlines, quiet periods, logistics periods, and what it has raised so far. It takes events
/// in ``EventKey`` order and can stop at any moment and go on later, so the server and a replay feed the same value.
struct GuaranteeMachine: Sendable {
    let config: GuaranteeEngine

    /// Events the machine schedules for itself: deadlines, quiet periods, logistics periods.
    enum Derived: Sendable {
        case deadline(Int)
        case quietCheck(scope: String, since: Timestamp)
        case periodEnd(pledge: Int, start: Timestamp)
        case gapCheck(pledge: Int, since: Timestamp)
    }

    struct Scheduled: Comparable, Sendable {
        var key: EventKey
        var event: Derived
        static func < (l: Scheduled, r: Scheduled) -> Bool { l.key < r.key }
        static func == (l: Scheduled, r: Scheduled) -> Bool { l.key == r.key }
    }

    private var queue = MinHeap<Scheduled>()
    // Results.
    private(set) var alerts: [Alert] = []
    private(set) var obligations: [Obligation] = []
    private(set) var statements: [Statement] = []
    private(set) var sanctions: [SanctionsEvent] = []
    private(set) var outcomes: [String: String] = [:]
    // State.
    private(set) var levels: [String: Int] = [:]
    private var lastAlertAt: [String: Timestamp] = [:]
    /// trigger × scope × party → findings known and not yet counted: (at, id).
    private var pending: [String: [(at: Int64, id: String)]] = [:]
    /// Per trigger key, the incidents already counted (pending or fired) and the finding that counted each, so that
    /// one happening counts once: its other findings, and those of late reports that join it, are not counted again.
    private var counted: [String: [(at: Int64, incident: String, id: String, severity: Severity)]] = [:]
    private var activePackages: Set<String> = []
    private var obligationIndex: [String: Int] = [:]
    private var statementOfAlert: [String: Int] = [:]
    private var deliveries: [Int: [(Timestamp, Double)]] = [:]
    private var lastDelivery: [Int: Timestamp] = [:]

    var book: TriggerBook { config.book }
    var coalition: Coalition { config.coalition }

    init(config: GuaranteeEngine) {
        self.config = config
        for (i, pledge) in coalition.pledges.enumerated() where pledge.pillar == .logistics && pledge.fromLevel == nil {
            let period = Timestamp.seconds(pledge.periodDays! * 86_400)
            schedule(.periodEnd(pledge: i, start: config.effectiveAt), at: config.effectiveAt.adding(period))
            schedule(.gapCheck(pledge: i, since: config.effectiveAt), at: config.effectiveAt.adding(gap))
        }
    }

    var gap: Int64 { Timestamp.seconds(book.maximumGapDays * 86_400) }

    /// When a finding counts: when its incident was verified (or happened, if not verified).
    static func knownAt(_ v: Violation) -> Timestamp {
        max(v.at, v.verifiedAt ?? v.at, v.receivedLateAt ?? v.at)
    }

    /// Whether an input can change anything: a finding that matches no trigger cannot.
    func matters(_ input: GuaranteeInput) -> Bool {
        switch input {
        case .violation(let v): book.triggers.contains { $0.matches(v) }
        case .tripwire, .action: true
        }
    }

    private mutating func schedule(_ event: Derived, at t: Timestamp) {
        let key: EventKey
        switch event {
        case .deadline(let i): key = EventKey(t.nanoseconds, 3, 0, obligations[i].id)
        case .quietCheck(let scope, _): key = EventKey(t.nanoseconds, 4, 0, scope)
        case .periodEnd(let p, _): key = EventKey(t.nanoseconds, 5, Int64(p), "period")
        case .gapCheck(let p, _): key = EventKey(t.nanoseconds, 5, Int64(p), "supply")
        }
        queue.push(Scheduled(key: key, event: event))
    }

    /// Takes the inputs (sorted by key) and the machine's own events, in key order, up to `limit`: every event
    /// before it, and also those at it when `including`.
    mutating func run(_ inputs: [GuaranteeInput], upTo limit: Int64, including: Bool) {
        var next = 0
        func due(_ t: Int64) -> Bool { including ? t <= limit : t < limit }
        while true {
            let input = next < inputs.count ? inputs[next] : nil
            let derived = queue.first
            if let input, derived == nil || input.key < derived!.key {
                guard due(input.time) else { return }
                next += 1
                take(input)
            } else if let derived {
                guard due(derived.key.time) else { return }
                queue.pop()
                take(derived.event, at: Timestamp(nanoseconds: derived.key.time))
            } else {
                return
            }
        }
    }

    private mutating func take(_ input: GuaranteeInput) {
        switch input {
        case .violation(let v): violationKnown(v, at: Self.knownAt(v))
        case .tripwire(let strike, let provisional, let at): tripwire(strike, provisional: provisional, at: at)
        case .action(let a): apply(a)
        }
    }

    private mutating func take(_ event: Derived, at t: Timestamp) {
        switch event {
        case .deadline(let i): deadline(i, at: t)
        case .quietCheck(let scope, let since): quietCheck(scope, since: since, at: t)
        case .periodEnd(let p, let start): periodEnd(p, start: start, at: t)
        case .gapCheck(let p, let since): gapCheck(p, since: since, at: t)
        }
    }

    // MARK: Triggers

    private mutating func violationKnown(_ v: Violation, at t: Timestamp) {
        for trigger in book.triggers where trigger.matches(v) {
            let scope = trigger.scope == .line ? "line" : (v.sector ?? "")
            let party = trigger.perParty ? v.attributedTo : ""
            let key = [trigger.id, scope, party].joined(separator: "\u{1F}")
            let window = Timestamp.seconds(trigger.windowHours * 3_600)
            let at = v.at.nanoseconds
            // Pending findings of this key by (at, id). Those that can no longer share a window with new ones are
            // dropped (two windows of slack, as findings become known a little out of order).
            var list = pending.removeValue(forKey: key) ?? []
            var stale = 0
            while stale < list.count && at - list[stale].at > 2 * window { stale += 1 }
            if stale > 0 { list.removeFirst(stale) }
            // One incident, one count: a second finding of a counted incident is not counted again; if it is graver
            // and its sibling still waits in the window, it takes the sibling's place (the gravest applies).
            let incident = v.countsAsIncident
            var seen = counted.removeValue(forKey: key) ?? []
            seen.removeAll { at - $0.at > 2 * window }
            if let c = seen.firstIndex(where: { $0.incident == incident }) {
                if v.severity > seen[c].severity, let q = list.firstIndex(where: { $0.id == seen[c].id }),
                    list[q].at == at
                {
                    list[q].id = v.id
                    seen[c].id = v.id
                    seen[c].severity = v.severity
                }
                counted[key] = seen
                pending[key] = list
                continue
            }
            seen.append((at, incident, v.id, v.severity))
            counted[key] = seen
            let p = Self.position(of: (at, v.id), in: list)
            list.insert((at, v.id), at: p)
            // The largest set of pending findings within one window that includes this one (the first such).
            let a = Self.position(of: (at - window, "\u{10FFFF}"), in: list)
            var b = p
            while b < list.count && list[b].at - at < window { b += 1 }
            var best = (low: 0, high: -1)
            var low = a
            for high in a..<b {
                while list[high].at - list[low].at >= window { low += 1 }
                if low <= p && p <= high && high - low > best.high - best.low { best = (low, high) }
            }
            let count = best.high - best.low + 1
            guard count >= trigger.count else {
                pending[key] = list
                continue
            }
            let ids = list[best.low...best.high].map(\.id)
            list.removeSubrange(best.low...best.high)
            pending[key] = list
            raise(
                scope, to: trigger.raisesTo, at: t, kind: .trigger, triggerId: trigger.id, violationIds: ids,
                provisional: false, party: trigger.perParty ? v.attributedTo : nil, site: nil,
                detail:
                    "\(count) incident\(count == 1 ? "" : "s") with violations matching \(trigger.id) within "
                    + "\(JSONFields.format(trigger.windowHours)) h"
                    + (trigger.perParty ? " attributed to \(v.attributedTo)" : ""))
        }
    }

    /// Where (at, id) goes in a list sorted by (at, id): the first index not before it.
    private static func position(of key: (Int64, String), in list: [(at: Int64, id: String)]) -> Int {
        var low = 0, high = list.count
        while low < high {
            let mid = (low + high) / 2
            if (list[mid].at, list[mid].id) < key { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private mutating func tripwire(_ strike: Strike, provisional: Bool, at t: Timestamp) {
        let site = strike.site
        let index = Int(strike.sector)
        let sector = config.sectorNames.indices.contains(index) ? config.sectorNames[index] : nil
        raise(
            sector ?? "", to: book.tripwireLevel, at: t, kind: .tripwire, triggerId: "tripwire",
            violationIds: strike.findings, provisional: provisional, party: nil, site: site.id,
            detail:
                "\(strike.kind.rawValue) at protected site \(site.id) (\(site.name), \(site.kind.rawValue)), incident \(strike.incidentId)"
                + (provisional ? ": credible report, not yet verified" : ": verified"))
    }

    /// Raises a scope to `level` (or keeps it, if already there), records the alert, and obliges members for every
    /// level newly reached.
    private mutating func raise(
        _ scope: String, to level: Int, at t: Timestamp, kind: Alert.Kind, triggerId: String, violationIds: [String],
        provisional: Bool, party: String?, site: String?, detail: String
    ) {
        let before = levels[scope] ?? 0
        let after = max(before, level)
        levels[scope] = after
        let id = Self.alertId(triggerId, scope, party, t, violationIds.first ?? site ?? "")
        let alert = Alert(
            id: id, kind: kind, triggerId: triggerId, level: after, firedAt: t, sector: Self.sector(scope),
            violationIds: violationIds, provisional: provisional, party: party, site: site, detail: detail)
        alerts.append(alert)
        lastAlertAt[scope] = t
        schedule(.quietCheck(scope: scope, since: t), at: t.adding(Timestamp.seconds(book.quietPeriodHours * 3_600)))
        if after > before {
            for l in (before + 1)...after { oblige(book.levels[l - 1], alert: alert) }
            updateSanctions(at: t, alertId: id)
        }
    }

    static func sector(_ scope: String) -> String? { scope.isEmpty || scope == "line" ? nil : scope }

    static func alertId(_ trigger: String, _ scope: String, _ party: String?, _ t: Timestamp, _ salt: String)
        -> String
    {
        "A"
            + EventChain.digestPrefix(
                Array([trigger, scope, party ?? "", t.rfc3339, salt].joined(separator: "|").utf8))
    }

    private mutating func oblige(_ level: Level, alert: Alert) {
        for response in level.responses {
            let obliged = coalition.obliged(by: response, atLevel: level.level)
            if obliged.isEmpty { alerts.append(Alert.unpledged(response, level: level, cause: alert)) }
            var seen: Set<String> = []
            for member in obliged where seen.insert(member).inserted {
                let deadline = alert.firedAt.adding(Timestamp.seconds(response.deadlineHours * 3_600))
                let obligation = Obligation(
                    id: "\(alert.id)/\(response.id)/\(member)", alertId: alert.id, member: member,
                    responseId: response.id, kind: response.kind, pillar: response.pillar, level: level.level,
                    sector: alert.sector, createdAt: alert.firedAt, deadline: deadline, status: .open,
                    statusAt: alert.firedAt)
                obligationIndex[obligation.id] = obligations.count
                obligations.append(obligation)
                schedule(.deadline(obligations.count - 1), at: deadline)
            }
            if response.kind == .jointStatement && !seen.isEmpty {
                statementOfAlert[alert.id] = statements.count
                statements.append(
                    Statement(
                        id: "S" + alert.id.dropFirst(), alertId: alert.id, sector: alert.sector,
                        draftedAt: alert.firedAt, members: seen.sorted(), markdown: "", violationIds: [], signedBy: [],
                        declinedBy: []))
            }
        }
    }

    private mutating func updateSanctions(at t: Timestamp, alertId: String) {
        let highest = levels.values.max() ?? 0
        for package in coalition.sanctionsPackages {
            let active = highest >= package.level
            guard active != activePackages.contains(package.id) else { continue }
            if active { activePackages.insert(package.id) } else { activePackages.remove(package.id) }
            sanctions.append(SanctionsEvent(package: package.id, activated: active, at: t, alertId: alertId))
        }
    }

    private mutating func quietCheck(_ scope: String, since: Timestamp, at t: Timestamp) {
        guard lastAlertAt[scope] == since, let level = levels[scope], level > 0 else { return }
        levels[scope] = level - 1
        let id = Self.alertId("quietPeriod", scope, nil, t, "")
        alerts.append(
            Alert(
                id: id, kind: .deescalation, triggerId: "quietPeriod", level: level - 1, firedAt: t,
                sector: Self.sector(scope), violationIds: [], provisional: false,
                detail: "no alert for \(JSONFields.format(book.quietPeriodHours)) h: level \(level) → \(level - 1)"))
        lastAlertAt[scope] = t
        updateSanctions(at: t, alertId: id)
        if level - 1 > 0 {
            schedule(
                .quietCheck(scope: scope, since: t), at: t.adding(Timestamp.seconds(book.quietPeriodHours * 3_600)))
        }
    }

    // MARK: Obligations

    private mutating func deadline(_ i: Int, at t: Timestamp) {
        guard [.open, .acknowledged].contains(obligations[i].status) else { return }
        obligations[i].status = .overdue
        obligations[i].statusAt = t
        let o = obligations[i]
        alerts.append(
            Alert(
                id: Self.alertId("overdue", o.sector ?? "line", o.member, t, o.id), kind: .overdue,
                triggerId: "overdue", level: o.level, firedAt: t, sector: o.sector, violationIds: [],
                provisional: false, member: o.member, obligationId: o.id,
                detail: "\(o.member) has not delivered \(o.kind.rawValue) (\(o.responseId)) due \(o.deadline)"))
    }

    private mutating func apply(_ action: GuaranteeAction) {
        do {
            switch action.kind {
            case .acknowledge, .fulfil, .decline: try answer(action)
            case .deliver: try deliver(action)
            case .clock:
                guard action.actor.member == Releasability.mission else {
                    throw ReviewError(
                        .notPermitted,
                        "the mission's clock is the mission's (\(Releasability.mission)), not \(action.actor.member)'s")
                }
            }
            outcomes[action.id] = "applied"
        } catch {
            outcomes[action.id] = "refused: \(error)"
        }
    }

    private mutating func answer(_ action: GuaranteeAction) throws {
        guard let index = obligationIndex[action.obligation!] else {
            throw ReviewError(.unknownTarget, "no obligation \(action.obligation!) at \(action.at)")
        }
        let o = obligations[index]
        guard o.member == action.actor.member else {
            throw ReviewError(.notPermitted, "\(o.id) obliges \(o.member), not \(action.actor.member)")
        }
        guard ![.fulfilled, .declined].contains(o.status) else {
            throw ReviewError(.transitionNotAllowed, "\(o.id) is already \(o.status.rawValue)")
        }
        switch action.kind {
        case .acknowledge:
            guard o.acknowledgedAt == nil else {
                throw ReviewError(.transitionNotAllowed, "\(o.id) was acknowledged already")
            }
            obligations[index].acknowledgedAt = action.at
            if o.status == .open {
                obligations[index].status = .acknowledged
                obligations[index].statusAt = action.at
            }
        case .fulfil:
            obligations[index].status = .fulfilled
            obligations[index].statusAt = action.at
            obligations[index].reference = action.reference
            obligations[index].late = action.at > o.deadline
            if o.kind == .jointStatement { sign(o, declined: false) }
        default:
            obligations[index].status = .declined
            obligations[index].statusAt = action.at
            obligations[index].reason = action.reason
            if o.kind == .jointStatement { sign(o, declined: true) }
        }
    }

    private mutating func sign(_ o: Obligation, declined: Bool) {
        guard let s = statementOfAlert[o.alertId] else { return }
        if declined { statements[s].declinedBy.append(o.member) } else { statements[s].signedBy.append(o.member) }
    }

    // MARK: Logistics

    private mutating func deliver(_ action: GuaranteeAction) throws {
        guard let p = coalition.pledges.firstIndex(where: { $0.id == action.pledge }) else {
            throw ReviewError(.unknownTarget, "no pledge \(action.pledge!)")
        }
        let pledge = coalition.pledges[p]
        guard pledge.pillar == .logistics else {
            throw ReviewError(.notPermitted, "\(pledge.id) is a \(pledge.pillar.rawValue) pledge, not logistics")
        }
        guard pledge.member == action.actor.member else {
            throw ReviewError(.notPermitted, "\(pledge.id) is \(pledge.member)'s pledge, not \(action.actor.member)'s")
        }
        deliveries[p, default: []].append((action.at, action.quantity!))
        lastDelivery[p] = action.at
        schedule(.gapCheck(pledge: p, since: action.at), at: action.at.adding(gap))
    }

    private mutating func periodEnd(_ p: Int, start: Timestamp, at t: Timestamp) {
        let pledge = coalition.pledges[p]
        schedule(.periodEnd(pledge: p, start: t), at: t.adding(Timestamp.seconds(pledge.periodDays! * 86_400)))
        let delivered = (deliveries[p] ?? []).filter { $0.0 >= start && $0.0 < t }.reduce(0) { $0 + $1.1 }
        let floor = pledge.quantity! * (1 - book.shortfallFraction)
        guard delivered < floor else { return }
        continuityAlert(
            p, at: t,
            detail:
                "\(pledge.member) delivered \(JSONFields.format(delivered)) of \(JSONFields.format(pledge.quantity!)) \(pledge.unit!) of \(pledge.item!) from \(start.rfc3339) to \(t.rfc3339)"
        )
    }

    private mutating func gapCheck(_ p: Int, since: Timestamp, at t: Timestamp) {
        guard (lastDelivery[p] ?? config.effectiveAt) == since else { return }
        let pledge = coalition.pledges[p]
        continuityAlert(
            p, at: t,
            detail:
                "\(pledge.member) has delivered no \(pledge.item!) since \(since.rfc3339) (\(JSONFields.format(book.maximumGapDays)) days)"
        )
    }

    private mutating func continuityAlert(_ p: Int, at t: Timestamp, detail: String) {
        let pledge = coalition.pledges[p]
        alerts.append(
            Alert(
                id: Self.alertId("continuity", pledge.id, pledge.member, t, detail), kind: .continuity,
                triggerId: "continuity", level: 0, firedAt: t, sector: nil, violationIds: [], provisional: false,
                member: pledge.member, pledgeId: pledge.id, detail: detail))
    }

    // MARK: Results

    /// What the machine has concluded, as of `clock`: alerts by (firedAt, id), obligations by (createdAt, id), every
    /// action in `actions` with its outcome, and each statement written from `facts` — the verified findings of its
    /// sector in the seven days up to its alert, known by the clock.
    func results(
        clock: Timestamp, actions: [GuaranteeAction],
        facts: (_ sector: String?, _ from: Timestamp, _ to: Timestamp) -> [Violation]
    ) -> GuaranteeResults {
        let sortedAlerts = alerts.sorted { ($0.firedAt, $0.id) < ($1.firedAt, $1.id) }
        let sortedObligations = obligations.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        let answered = actions.sorted { ($0.at, $0.id) < ($1.at, $1.id) }.map { action in
            (action: action, outcome: outcomes[action.id] ?? "refused: after the clock (\(clock.rfc3339))")
        }
        var delivered: [String: Double] = [:]
        for (p, list) in deliveries { delivered[coalition.pledges[p].id] = list.reduce(0) { $0 + $1.1 } }
        var alertById: [String: Alert] = [:]
        for a in alerts where statementOfAlert[a.id] != nil && alertById[a.id] == nil { alertById[a.id] = a }
        var written = statements
        for i in written.indices {
            let alert = alertById[written[i].alertId]!
            let stated = facts(written[i].sector, alert.firedAt.adding(-Timestamp.seconds(7 * 86_400)), alert.firedAt)
                .filter { Self.knownAt($0) <= clock }
            written[i].markdown = Self.markdown(
                stated, sector: written[i].sector, alert: alert, members: written[i].members)
            written[i].violationIds = stated.map(\.id)
        }
        return GuaranteeResults(
            alerts: sortedAlerts, obligations: sortedObligations, statements: written, sanctions: sanctions,
            levels: levels, actions: answered, delivered: delivered, clock: clock)
    }

    /// The draft: only verified facts — dates, sector, counts by severity and by attributed party, references.
    static func markdown(_ facts: [Violation], sector: String?, alert: Alert, members: [String]) -> String {
        let place = sector.map { "in \($0)" } ?? "along the line"
        var text = "# Joint statement on ceasefire violations \(place)\n\n"
        text += "*Draft of \(alert.firedAt.rfc3339), alert \(alert.id) (level \(alert.level)); "
        text += "for signature by \(members.joined(separator: ", ")).*\n\n"
        guard let first = facts.first, let last = facts.last else {
            return text
                + "The monitoring mission has verified no violation \(place) in the seven days before this alert.\n"
        }
        let bySeverity = Severity.allCases.reversed().map { s in (s, facts.filter { $0.severity == s }.count) }
            .filter { $0.1 > 0 }.map { "\($0.1) \($0.0.rawValue)" }
        var byParty: [String: Int] = [:]
        for v in facts { byParty[v.attributedTo, default: 0] += 1 }
        text += "Between \(first.at.rfc3339) and \(last.at.rfc3339) the monitoring and verification mechanism verified "
        text += "\(facts.count) violation\(facts.count == 1 ? "" : "s") of the ceasefire \(place): "
        text += bySeverity.joined(separator: ", ") + ".\n\n"
        text +=
            "Attributed: "
            + byParty.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", ") + ".\n\n"
        text += "| time (UTC) | rule | severity | attributed to | finding |\n| --- | --- | --- | --- | --- |\n"
        for v in facts {
            text += "| \(v.at.rfc3339) | \(v.rule) | \(v.severity.rawValue) | \(v.attributedTo) | \(v.id) |\n"
        }
        text += "\nThe undersigned members of the coalition call for the ceasefire to be respected in full and "
        text += "will act on their commitments under the guarantee.\n"
        return text
    }
}
