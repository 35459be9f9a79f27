// The batch engine as it was before the incremental one: kept in the tests as the specification the incremental
// engine is compared with (property tests), never used by the product.
import Foundation

@testable import GuarantorCore

/// Turns verified violations into alerts and members' obligations, on event time only (DESIGN §2.3–2.5).
///
/// Everything is replayed from the verification engine's results and people's guarantee actions, in event-time order
/// up to the clock (the latest observation or clock event): the same inputs give the same alerts and obligations.
struct ReferenceGuarantee: Sendable {
    let coalition: Coalition
    let book: TriggerBook
    let effectiveAt: Timestamp
    /// The mission's sector names, by index (``Classification/sector``).
    let sectorNames: [String]

    init(coalition: Coalition, book: TriggerBook, effectiveAt: Timestamp, sectorNames: [String]) {
        self.coalition = coalition
        self.book = book
        self.effectiveAt = effectiveAt
        self.sectorNames = sectorNames
    }

    /// The guarantee engine of a mission that has coalition.json and triggers.json.
    init?(mission: Mission) {
        guard let coalition = mission.coalition, let book = mission.triggers else { return nil }
        self.init(
            coalition: coalition, book: book, effectiveAt: mission.agreement.effectiveAt,
            sectorNames: mission.sectors.names)
    }

    /// What can happen at a moment, in the order things at the same moment are taken.
    private enum Event {
        case violation(Int)
        case tripwire(incident: Int, provisional: Bool)
        case action(Int)
        case deadline(Int)
        case quietCheck(scope: String, since: Timestamp)
        case periodEnd(pledge: Int, start: Timestamp)
        case gapCheck(pledge: Int, since: Timestamp)

        var order: Int {
            switch self {
            case .violation, .tripwire: 0
            case .action: 1
            case .deadline: 2
            case .quietCheck: 3
            case .periodEnd, .gapCheck: 4
            }
        }
    }

    private struct Scheduled {
        var at: Timestamp
        var order: Int
        var sequence: Int
        var event: Event
        var key: (Timestamp, Int, Int) { (at, order, sequence) }
    }

    /// Runs the guarantee over the verification results and the guarantee actions up to `clock`.
    func run(
        incidents: [Incident], violations: [Violation], actions: [GuaranteeAction], clock: Timestamp
    ) -> GuaranteeResults {
        var run = Run(engine: self, incidents: incidents, violations: violations, actions: actions, clock: clock)
        run.start()
        run.process()
        return run.finish()
    }

    /// One replay's mutable state.
    private struct Run {
        let engine: ReferenceGuarantee
        let incidents: [Incident]
        let violations: [Violation]
        let actions: [GuaranteeAction]
        let clock: Timestamp
        var queue: [Scheduled] = []
        var sequence = 0
        // Results.
        var alerts: [Alert] = []
        var obligations: [Obligation] = []
        var statements: [Statement] = []
        var sanctions: [SanctionsEvent] = []
        var outcomes: [String: String] = [:]
        // State.
        var levels: [String: Int] = [:]
        var lastAlertAt: [String: Timestamp] = [:]
        var pending: [String: [Int]] = [:]  // trigger × scope × party → known, uncounted violation indices
        var counted: [String: [Int]] = [:]  // trigger × scope × party → the violation that counted each incident
        var activePackages: Set<String> = []
        var obligationIndex: [String: Int] = [:]
        var deliveries: [Int: [(Timestamp, Double)]] = [:]
        var lastDelivery: [Int: Timestamp] = [:]
        /// The findings of each incident that struck a protected site, by incident index (one pass, in ``start()``).
        var tripwireFindings: [Int: [String]] = [:]

        var book: TriggerBook { engine.book }
        var coalition: Coalition { engine.coalition }

        init(
            engine: ReferenceGuarantee, incidents: [Incident], violations: [Violation], actions: [GuaranteeAction],
            clock: Timestamp
        ) {
            self.engine = engine
            self.incidents = incidents
            self.violations = violations
            self.actions = actions
            self.clock = clock
        }

        /// Adds an event to the queue (a binary min-heap by time, kind, then order of scheduling).
        mutating func schedule(_ event: Event, at t: Timestamp) {
            guard t <= clock else { return }
            sequence += 1
            queue.append(Scheduled(at: t, order: event.order, sequence: sequence, event: event))
            var child = queue.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard queue[child].key < queue[parent].key else { break }
                queue.swapAt(child, parent)
                child = parent
            }
        }

        /// Takes the earliest event off the queue.
        mutating func next() -> Scheduled? {
            guard !queue.isEmpty else { return nil }
            queue.swapAt(0, queue.count - 1)
            let first = queue.removeLast()
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < queue.count && queue[left].key < queue[smallest].key { smallest = left }
                if right < queue.count && queue[right].key < queue[smallest].key { smallest = right }
                guard smallest != parent else { break }
                queue.swapAt(parent, smallest)
                parent = smallest
            }
            return first
        }

        mutating func start() {
            for (i, v) in violations.enumerated() where v.incidentStatus != .rejected && !v.incidentId.isEmpty {
                schedule(.violation(i), at: Self.knownAt(v))
            }
            var struck: [String: Int] = [:]
            for (i, incident) in incidents.enumerated()
            where book.tripwireKinds.contains(incident.kind) && incident.status != .rejected
                && incident.joinsIncidentId == nil && coalition.site(containing: incident.location.point) != nil
            {
                struck[incident.id] = i
                tripwireFindings[i] = []
                // A late report strikes from when it was received.
                let received = incident.receivedLateAt ?? Timestamp(nanoseconds: Int64.min)
                if let credible = incident.credibleAt, credible != incident.verifiedAt {
                    schedule(.tripwire(incident: i, provisional: true), at: max(credible, received))
                }
                if let verified = incident.verifiedAt {
                    schedule(.tripwire(incident: i, provisional: false), at: max(verified, received))
                }
            }
            if !struck.isEmpty {
                for v in violations { if let i = struck[v.incidentId] { tripwireFindings[i]!.append(v.id) } }
            }
            for (i, action) in actions.enumerated() { schedule(.action(i), at: action.at) }
            for (i, pledge) in coalition.pledges.enumerated()
            where pledge.pillar == .logistics && pledge.fromLevel == nil {
                let period = Timestamp.seconds(pledge.periodDays! * 86_400)
                var start = engine.effectiveAt
                while start.adding(period) <= clock {
                    schedule(.periodEnd(pledge: i, start: start), at: start.adding(period))
                    start = start.adding(period)
                }
                schedule(.gapCheck(pledge: i, since: engine.effectiveAt), at: engine.effectiveAt.adding(gap))
            }
        }

        var gap: Int64 { Timestamp.seconds(book.maximumGapDays * 86_400) }

        /// When a violation counts: when its incident was verified (or happened, if not verified).
        static func knownAt(_ v: Violation) -> Timestamp {
            max(v.at, v.verifiedAt ?? v.at, v.receivedLateAt ?? v.at)
        }

        mutating func process() {
            while let next = next() {
                let t = next.at
                switch next.event {
                case .violation(let i): violationKnown(i, at: t)
                case .tripwire(let i, let provisional): tripwire(i, provisional: provisional, at: t)
                case .action(let i): apply(i)
                case .deadline(let i): deadline(i, at: t)
                case .quietCheck(let scope, let since): quietCheck(scope, since: since, at: t)
                case .periodEnd(let p, let start): periodEnd(p, start: start, at: t)
                case .gapCheck(let p, let since): gapCheck(p, since: since, at: t)
                }
            }
        }

        // MARK: Triggers

        mutating func violationKnown(_ i: Int, at t: Timestamp) {
            let v = violations[i]
            for trigger in book.triggers where trigger.matches(v) {
                let scope = trigger.scope == .line ? "line" : (v.sector ?? "")
                let party = trigger.perParty ? v.attributedTo : ""
                let key = [trigger.id, scope, party].joined(separator: "\u{1F}")
                let window = Timestamp.seconds(trigger.windowHours * 3_600)
                // Violations that can no longer share a window with new ones are dropped (two windows of slack, as
                // violations become known a little out of order).
                pending[key, default: []].removeAll { v.at.nanoseconds - violations[$0].at.nanoseconds > 2 * window }
                // One incident, one count; a graver sibling still waiting takes the counted one's place.
                // A late report that joins an incident counts as that incident.
                let incident = v.joinsIncidentId ?? v.incidentId
                counted[key, default: []].removeAll { v.at.nanoseconds - violations[$0].at.nanoseconds > 2 * window }
                if let c = counted[key]!.firstIndex(where: {
                    (violations[$0].joinsIncidentId ?? violations[$0].incidentId) == incident
                }) {
                    let sibling = counted[key]![c]
                    if v.severity > violations[sibling].severity, violations[sibling].at == v.at,
                        let q = pending[key]!.firstIndex(of: sibling)
                    {
                        pending[key]![q] = i
                        counted[key]![c] = i
                    }
                    continue
                }
                counted[key]!.append(i)
                pending[key]!.append(i)
                // The largest set of pending violations within one window that includes this one.
                let candidates = pending[key]!.filter {
                    abs(violations[$0].at.nanoseconds - v.at.nanoseconds) < window
                }.sorted { (violations[$0].at, violations[$0].id) < (violations[$1].at, violations[$1].id) }
                var best: ArraySlice<Int> = []
                var low = 0
                for high in candidates.indices {
                    while violations[candidates[high]].at.nanoseconds - violations[candidates[low]].at.nanoseconds
                        >= window
                    {
                        low += 1
                    }
                    let slice = candidates[low...high]
                    if slice.contains(i) && slice.count > best.count { best = slice }
                }
                guard best.count >= trigger.count else { continue }
                let used = Set(best)
                pending[key]!.removeAll { used.contains($0) }
                let ids = best.map { violations[$0].id }
                raise(
                    scope, to: trigger.raisesTo, at: t, kind: .trigger, triggerId: trigger.id, violationIds: ids,
                    provisional: false, party: trigger.perParty ? v.attributedTo : nil, site: nil,
                    detail:
                        "\(best.count) incident\(best.count == 1 ? "" : "s") with violations matching \(trigger.id) within "
                        + "\(JSONFields.format(trigger.windowHours)) h"
                        + (trigger.perParty ? " attributed to \(v.attributedTo)" : ""))
            }
        }

        mutating func tripwire(_ i: Int, provisional: Bool, at t: Timestamp) {
            let incident = incidents[i]
            let site = coalition.site(containing: incident.location.point)!
            let index = Int(incident.classification.sector)
            let sector = engine.sectorNames.indices.contains(index) ? engine.sectorNames[index] : nil
            let ids = tripwireFindings[i] ?? []
            raise(
                sector ?? "", to: book.tripwireLevel, at: t, kind: .tripwire, triggerId: "tripwire", violationIds: ids,
                provisional: provisional, party: nil, site: site.id,
                detail:
                    "\(incident.kind.rawValue) at protected site \(site.id) (\(site.name), \(site.kind.rawValue)), incident \(incident.id)"
                    + (provisional ? ": credible report, not yet verified" : ": verified"))
        }

        /// Raises a scope to `level` (or keeps it, if already there), records the alert, and obliges members for
        /// every level newly reached.
        mutating func raise(
            _ scope: String, to level: Int, at t: Timestamp, kind: Alert.Kind, triggerId: String,
            violationIds: [String],
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
            schedule(
                .quietCheck(scope: scope, since: t), at: t.adding(Timestamp.seconds(book.quietPeriodHours * 3_600)))
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

        mutating func oblige(_ level: Level, alert: Alert) {
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
                if response.kind == .jointStatement && !seen.isEmpty { draftStatement(alert, members: seen.sorted()) }
            }
        }

        mutating func updateSanctions(at t: Timestamp, alertId: String) {
            let highest = levels.values.max() ?? 0
            for package in coalition.sanctionsPackages {
                let active = highest >= package.level
                guard active != activePackages.contains(package.id) else { continue }
                if active { activePackages.insert(package.id) } else { activePackages.remove(package.id) }
                sanctions.append(SanctionsEvent(package: package.id, activated: active, at: t, alertId: alertId))
            }
        }

        mutating func quietCheck(_ scope: String, since: Timestamp, at t: Timestamp) {
            guard lastAlertAt[scope] == since, let level = levels[scope], level > 0 else { return }
            levels[scope] = level - 1
            let id = Self.alertId("quietPeriod", scope, nil, t, "")
            alerts.append(
                Alert(
                    id: id, kind: .deescalation, triggerId: "quietPeriod", level: level - 1, firedAt: t,
                    sector: Self.sector(scope), violationIds: [], provisional: false,
                    detail: "no alert for \(JSONFields.format(book.quietPeriodHours)) h: level \(level) → \(level - 1)")
            )
            lastAlertAt[scope] = t
            updateSanctions(at: t, alertId: id)
            if level - 1 > 0 {
                schedule(
                    .quietCheck(scope: scope, since: t), at: t.adding(Timestamp.seconds(book.quietPeriodHours * 3_600)))
            }
        }

        // MARK: Obligations

        mutating func deadline(_ i: Int, at t: Timestamp) {
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

        mutating func apply(_ i: Int) {
            let action = actions[i]
            do {
                switch action.kind {
                case .acknowledge, .fulfil, .decline: try answer(action)
                case .deliver: try deliver(action)
                case .clock:
                    guard action.actor.member == Releasability.mission else {
                        throw ReviewError(
                            .notPermitted,
                            "the mission's clock is the mission's (\(Releasability.mission)), not \(action.actor.member)'s"
                        )
                    }
                }
                outcomes[action.id] = "applied"
            } catch {
                outcomes[action.id] = "refused: \(error)"
            }
        }

        mutating func answer(_ action: GuaranteeAction) throws {
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

        // MARK: Statements

        /// A statement for the alert; its text is written in ``finish()``, from the facts verified by the clock.
        mutating func draftStatement(_ alert: Alert, members: [String]) {
            statements.append(
                Statement(
                    id: "S" + alert.id.dropFirst(), alertId: alert.id, sector: alert.sector, draftedAt: alert.firedAt,
                    members: members, markdown: "", violationIds: [], signedBy: [], declinedBy: []))
        }

        /// What a statement states: the verified violations of its sector in the seven days up to its alert, as
        /// verified by the clock (a tripwire alert comes before verification; the statement waits for the facts).
        func facts(of statement: Statement) -> [Violation] {
            let alert = alerts.first { $0.id == statement.alertId }!
            let since = alert.firedAt.adding(-Timestamp.seconds(7 * 86_400))
            let facts = violations.filter {
                $0.incidentStatus == .verified && Self.knownAt($0) <= clock && $0.sector == statement.sector
                    && $0.at >= since && $0.at <= alert.firedAt
            }
            return facts.sorted { ($0.at, $0.id) < ($1.at, $1.id) }
        }

        mutating func sign(_ o: Obligation, declined: Bool) {
            guard let s = statements.firstIndex(where: { $0.alertId == o.alertId }) else { return }
            if declined { statements[s].declinedBy.append(o.member) } else { statements[s].signedBy.append(o.member) }
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
            text +=
                "Between \(first.at.rfc3339) and \(last.at.rfc3339) the monitoring and verification mechanism verified "
            text += "\(facts.count) violation\(facts.count == 1 ? "" : "s") of the ceasefire \(place): "
            text += bySeverity.joined(separator: ", ") + ".\n\n"
            text +=
                "Attributed: "
                + byParty.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
                .map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ".\n\n"
            text += "| time (UTC) | rule | severity | attributed to | finding |\n| --- | --- | --- | --- | --- |\n"
            for v in facts {
                text += "| \(v.at.rfc3339) | \(v.rule) | \(v.severity.rawValue) | \(v.attributedTo) | \(v.id) |\n"
            }
            text += "\nThe undersigned members of the coalition call for the ceasefire to be respected in full and "
            text += "will act on their commitments under the guarantee.\n"
            return text
        }

        // MARK: Logistics

        mutating func deliver(_ action: GuaranteeAction) throws {
            guard let p = coalition.pledges.firstIndex(where: { $0.id == action.pledge }) else {
                throw ReviewError(.unknownTarget, "no pledge \(action.pledge!)")
            }
            let pledge = coalition.pledges[p]
            guard pledge.pillar == .logistics else {
                throw ReviewError(.notPermitted, "\(pledge.id) is a \(pledge.pillar.rawValue) pledge, not logistics")
            }
            guard pledge.member == action.actor.member else {
                throw ReviewError(
                    .notPermitted, "\(pledge.id) is \(pledge.member)'s pledge, not \(action.actor.member)'s")
            }
            deliveries[p, default: []].append((action.at, action.quantity!))
            lastDelivery[p] = action.at
            schedule(.gapCheck(pledge: p, since: action.at), at: action.at.adding(gap))
        }

        mutating func periodEnd(_ p: Int, start: Timestamp, at t: Timestamp) {
            let pledge = coalition.pledges[p]
            let delivered = (deliveries[p] ?? []).filter { $0.0 >= start && $0.0 < t }.reduce(0) { $0 + $1.1 }
            let floor = pledge.quantity! * (1 - book.shortfallFraction)
            guard delivered < floor else { return }
            continuityAlert(
                p, at: t,
                detail:
                    "\(pledge.member) delivered \(JSONFields.format(delivered)) of \(JSONFields.format(pledge.quantity!)) \(pledge.unit!) of \(pledge.item!) from \(start.rfc3339) to \(t.rfc3339)"
            )
        }

        mutating func gapCheck(_ p: Int, since: Timestamp, at t: Timestamp) {
            guard (lastDelivery[p] ?? engine.effectiveAt) == since else { return }
            let pledge = coalition.pledges[p]
            continuityAlert(
                p, at: t,
                detail:
                    "\(pledge.member) has delivered no \(pledge.item!) since \(since.rfc3339) (\(JSONFields.format(book.maximumGapDays)) days)"
            )
        }

        mutating func continuityAlert(_ p: Int, at t: Timestamp, detail: String) {
            let pledge = coalition.pledges[p]
            alerts.append(
                Alert(
                    id: Self.alertId("continuity", pledge.id, pledge.member, t, detail), kind: .continuity,
                    triggerId: "continuity", level: 0, firedAt: t, sector: nil, violationIds: [], provisional: false,
                    member: pledge.member, pledgeId: pledge.id, detail: detail))
        }

        func finish() -> GuaranteeResults {
            let sortedAlerts = alerts.sorted { ($0.firedAt, $0.id) < ($1.firedAt, $1.id) }
            let sortedObligations = obligations.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
            let answered = actions.sorted { ($0.at, $0.id) < ($1.at, $1.id) }.map { action in
                (action: action, outcome: outcomes[action.id] ?? "refused: after the clock (\(clock.rfc3339))")
            }
            var delivered: [String: Double] = [:]
            for (p, list) in deliveries { delivered[coalition.pledges[p].id] = list.reduce(0) { $0 + $1.1 } }
            var written = statements
            for i in written.indices {
                let facts = facts(of: statements[i])
                let alert = alerts.first { $0.id == statements[i].alertId }!
                written[i].markdown = Self.markdown(
                    facts, sector: statements[i].sector, alert: alert, members: statements[i].members)
                written[i].violationIds = facts.map(\.id)
            }
            return GuaranteeResults(
                alerts: sortedAlerts, obligations: sortedObligations, statements: written, sanctions: sanctions,
                levels: levels, actions: answered, delivered: delivered, clock: clock)
        }
    }
}
