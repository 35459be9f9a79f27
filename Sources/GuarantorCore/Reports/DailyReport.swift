/// The mission's daily report in the OSCE SMM's structure: a summary; ceasefire violations by sector, with counts by
/// kind and the change against the previous day; heavy weapons (sightings, declared sites, withdrawal); restrictions
/// of movement and sensor gaps per party; findings endorsed or contested; the guarantee (alerts, obligations, sanctions);
/// the spot reports of the period. Built from what one reader may see, and nothing else: the inputs are already
/// filtered (``Input``). Pure: no clock, no I/O.
public struct DailyReport: Sendable {
    /// What the report is drawn from, every part as the reader sees it.
    public struct Input: Sendable {
        public var mission: Mission
        /// The report's date, `YYYY-MM-DD`.
        public var date: String
        /// The report's day and the six before it, oldest first: each from one day's cut-off to the next (23 or 25
        /// hours when the clocks change).
        public var days: [ReportPeriod]
        /// The report's day.
        public var period: ReportPeriod { days[days.count - 1] }
        /// The day before it.
        public var previousDay: ReportPeriod { days[days.count - 2] }
        /// The cut-off as people say it, e.g. `19:30 Europe/Kyiv`.
        public var cutoff: String
        public var reader: ReportReader
        public var language: ReportLanguage
        /// The incidents the reader sees whose first report falls in one of `days`.
        public var incidents: [ReportIncident]
        /// Impediments per kind, party and sector in the period and in the day before it (from the reports the
        /// reader may read).
        public var impediments: [ImpedimentCount]
        public var previousImpediments: [ImpedimentCount]
        /// The alerts as the reader sees them (all of them; the report picks the period's).
        public var alerts: [Alert]
        /// The obligations the reader may see.
        public var obligations: [Obligation]
        /// Sanctions packages activated or lifted, as the reader sees them.
        public var sanctions: [SanctionsEvent]
        /// Findings' severities by id, for the alerts' findings the reader may read (to tell which need a spot report).
        public var severities: [String: Severity]
        /// Whether anything shown rests on reports marked AMBER or above.
        public var restricted: Bool

        public init(
            mission: Mission, date: String, days: [ReportPeriod], cutoff: String, reader: ReportReader,
            language: ReportLanguage, incidents: [ReportIncident], impediments: [ImpedimentCount],
            previousImpediments: [ImpedimentCount], alerts: [Alert], obligations: [Obligation],
            sanctions: [SanctionsEvent], severities: [String: Severity], restricted: Bool
        ) {
            self.mission = mission
            self.date = date
            precondition(days.count >= 2, "a daily report needs its day and the day before")
            self.days = days
            self.cutoff = cutoff
            self.reader = reader
            self.language = language
            self.incidents = incidents
            self.impediments = impediments
            self.previousImpediments = previousImpediments
            self.alerts = alerts
            self.obligations = obligations
            self.sanctions = sanctions
            self.severities = severities
            self.restricted = restricted
        }
    }

    public let input: Input
    public init(_ input: Input) { self.input = input }

    /// Whether an alert is drafted a spot report: a tripwire alert, or one resting on a grave finding.
    public static func needsSpotReport(_ alert: Alert, severities: [String: Severity]) -> Bool {
        alert.kind == .tripwire || alert.violationIds.contains { severities[$0] == .grave }
    }

    /// The report as blocks (``ReportDocument/html()``, ``ReportDocument/markdown()``).
    public func document() -> ReportDocument {
        let t = ReportText(input.language)
        let mission = input.mission
        let period = input.period
        let today = input.incidents.filter { period.contains($0.start) }
        let previous = input.incidents.filter { input.previousDay.contains($0.start) }
        let parties = mission.agreement.parties.map(\.id)
        var doc = ReportDocument(
            title: t("daily.title", input.date), marking: Self.marking(input.reader, input.restricted, t),
            language: input.language)
        doc.add(.paragraph(t("mission", mission.agreement.title)))
        doc.add(.paragraph(t("period", Self.time(period.from), Self.time(period.to), input.cutoff)))
        doc.add(.paragraph(Self.readerLine(input.reader, t)))

        // 1. Summary.
        let violationsToday = today.flatMap(\.violations)
        let violationsBefore = previous.flatMap(\.violations)
        let periodAlerts = input.alerts.filter { period.contains($0.firedAt) }
        doc.add(.heading(t("section.summary")))
        var summary = [
            t("summary.incidents", today.count, previous.count),
            t(
                "summary.violations", violationsToday.count, violationsBefore.count,
                Self.change(violationsToday.count, violationsBefore.count)),
        ]
        let byStatus = IncidentStatus.allCases.compactMap { s -> String? in
            let n = today.filter { $0.status == s }.count
            return n > 0 ? "\(t.status(s)) \(n)" : nil
        }
        summary.append(t("summary.byStatus", byStatus.isEmpty ? t("none") : byStatus.joined(separator: ", ")))
        let byParty = Self.tally(violationsToday.map(\.party), order: parties + ["unattributed"])
        summary.append(
            t(
                "summary.byParty",
                byParty.isEmpty ? t("none") : byParty.map { "\($0.key) \($0.count)" }.joined(separator: ", ")))
        let bySector = Self.tally(
            today.flatMap { i in i.violations.map { _ in i.sector ?? t("noSector") } }, order: mission.sectors.names)
        if let most = bySector.max(by: { ($0.count, $1.key) < ($1.count, $0.key) }) {
            summary.append(t("summary.mostAffected", most.key, most.count))
        }
        summary.append(t("summary.alerts", periodAlerts.count))
        doc.add(.list(summary))

        // The map of the period.
        let legend = IncidentStatus.allCases.map { (t.status($0), ReportFigures.statusColours[$0]!) }
        doc.add(.subheading(t("map.title")))
        doc.add(
            .figure(
                svg: ReportFigures.map(
                    line: mission.line.parts, sites: mission.coalition?.sites ?? [],
                    dots: today.map { i in
                        ReportFigures.Dot(
                            point: i.point, colour: ReportFigures.statusColours[i.status]!,
                            radius: min(2.5 + Double(i.sources.count), 7),
                            title: "\(i.id) \(t.kind(i.kind)) \(t.status(i.status))")
                    }, legend: legend),
                caption: t("map.caption")))

        // 2. Violations by sector and kind.
        doc.add(.heading(t("section.violations")))
        if violationsToday.isEmpty && violationsBefore.isEmpty {
            doc.add(.paragraph(t("violations.none")))
        } else {
            // Violations per (sector, kind) and per sector (kind nil), counted in one pass over each day.
            struct Cell: Hashable {
                var sector: String?
                var kind: ObservationKind?
            }
            func tally(_ incidents: [ReportIncident]) -> [Cell: Int] {
                var cells: [Cell: Int] = [:]
                for i in incidents {
                    let n = i.violations.count
                    guard n > 0 else { continue }
                    cells[Cell(sector: i.sector, kind: i.kind), default: 0] += n
                    cells[Cell(sector: i.sector, kind: nil), default: 0] += n
                    cells[Cell(sector: "\u{0}total", kind: i.kind), default: 0] += n
                }
                return cells
            }
            let cellsNow = tally(today), cellsBefore = tally(previous)
            let kinds = ObservationKind.allCases.filter { k in
                cellsNow[Cell(sector: "\u{0}total", kind: k)] != nil
                    || cellsBefore[Cell(sector: "\u{0}total", kind: k)] != nil
            }
            func count(_ cells: [Cell: Int], sector: String?, kind: ObservationKind? = nil) -> Int {
                cells[Cell(sector: sector, kind: kind)] ?? 0
            }
            let sectors: [String?] = (mission.sectors.names.map { Optional($0) } + [nil]).filter { s in
                cellsNow[Cell(sector: s, kind: nil)] != nil || cellsBefore[Cell(sector: s, kind: nil)] != nil
            }
            var rows: [[String]] = []
            var chart: [(label: String, values: [Int])] = []
            for sector in sectors {
                let now = count(cellsNow, sector: sector), before = count(cellsBefore, sector: sector)
                rows.append(
                    [sector ?? t("noSector")] + kinds.map { "\(count(cellsNow, sector: sector, kind: $0))" } + [
                        "\(now)", "\(before)", Self.change(now, before),
                    ])
                chart.append((sector ?? t("noSector"), [now, before]))
            }
            rows.append(
                [t("col.total")]
                    + kinds.map { k in "\(cellsNow[Cell(sector: "\u{0}total", kind: k)] ?? 0)" }
                    + [
                        "\(violationsToday.count)", "\(violationsBefore.count)",
                        Self.change(violationsToday.count, violationsBefore.count),
                    ])
            doc.add(
                .table(
                    header: [t("col.sector")] + kinds.map(t.kind) + [
                        t("col.total"), t("col.previous"), t("col.change"),
                    ],
                    rows: rows, numeric: true))
            doc.add(
                .figure(
                    svg: ReportFigures.bars(groups: chart, series: [input.date, t("col.previous")]),
                    caption: t("chart.sectors")))
            doc.add(.subheading(t("violations.byParty")))
            let partyRows = (parties + ["unattributed"]).compactMap { p -> [String]? in
                let now = violationsToday.filter { $0.party == p }.count
                let before = violationsBefore.filter { $0.party == p }.count
                return now + before > 0 ? [p, "\(now)", "\(before)", Self.change(now, before)] : nil
            }
            doc.add(
                .table(
                    header: [t("col.party"), t("col.total"), t("col.previous"), t("col.change")], rows: partyRows,
                    numeric: true))
        }
        // Seven days by party.
        let days = input.days
        let weekParties = parties + ["unattributed"]
        let week = days.map { day -> (label: String, values: [Int]) in
            let found = input.incidents.filter { day.contains($0.start) }.flatMap(\.violations)
            return (
                day.date.map { String($0.dropFirst(5)) } ?? Self.day(day.to),
                weekParties.map { p in found.filter { $0.party == p }.count }
            )
        }
        doc.add(
            .figure(svg: ReportFigures.bars(groups: week, series: weekParties, stacked: true), caption: t("chart.week"))
        )

        // 3. Heavy weapons.
        doc.add(.heading(t("section.heavy")))
        let sightings = today.filter { $0.kind == .heavyWeaponSighting || $0.kind == .armourMovement }
        let inspections = today.filter { $0.kind == .siteInspection }
        let short = inspections.flatMap(\.findings).filter { $0.rule == "missingFromDeclaredSite" && $0.counts }
        if sightings.isEmpty {
            doc.add(.paragraph(t("heavy.none")))
        } else {
            doc.add(.paragraph(t("heavy.sightings", sightings.count, sightings.reduce(0) { $0 + $1.count })))
            var rows: [[String]] = []
            for weapon in [nil] + WeaponClass.allCases.map(Optional.init) {
                for side in parties {
                    let these = sightings.filter { $0.weaponClass == weapon && $0.side == side }
                    guard !these.isEmpty else { continue }
                    let inZone = these.filter { i in
                        i.findings.contains { $0.rule == "heavyWeaponInWithdrawalZone" && $0.counts }
                    }
                    let away = these.filter { i in
                        i.findings.contains { $0.rule == "awayFromDeclaredSite" && $0.counts }
                    }
                    rows.append([
                        t.weapon(weapon), side, "\(these.count)", "\(these.reduce(0) { $0 + $1.count })",
                        "\(inZone.count)", "\(away.count)",
                    ])
                }
            }
            doc.add(
                .table(
                    header: [
                        t("col.weaponClass"), t("col.side"), t("col.incidents"), t("col.weapons"), t("col.inZone"),
                        t("col.awayFromSites"),
                    ], rows: rows, numeric: true))
            let inZone = sightings.filter { i in
                i.findings.contains { $0.rule == "heavyWeaponInWithdrawalZone" && $0.counts }
            }
            let away = sightings.filter { i in i.findings.contains { $0.rule == "awayFromDeclaredSite" && $0.counts } }
            doc.add(.paragraph(t("heavy.withdrawal", inZone.count, away.count)))
        }
        doc.add(.paragraph(t("heavy.inspections", inspections.count, short.count)))
        if !short.isEmpty {
            doc.add(.list(short.map { "\($0.party): \($0.detail ?? $0.id)" }))
        }

        // 4. Restrictions of movement and sensor gaps.
        doc.add(.heading(t("section.movement")))
        let impedimentKinds: [ObservationKind] = [.accessDenial, .restrictionOfMovement, .sensorGap]
        func impediments(_ counts: [ImpedimentCount], _ party: String, _ kind: ObservationKind?) -> Int {
            counts.filter { $0.party == party && (kind == nil || $0.kind == kind) }.reduce(0) { $0 + $1.incidents }
        }
        let impedingParties = (parties + ["unattributed"]).filter {
            impediments(input.impediments, $0, nil) + impediments(input.previousImpediments, $0, nil) > 0
        }
        if impedingParties.isEmpty {
            doc.add(.paragraph(t("movement.none")))
        } else {
            doc.add(
                .table(
                    header: [t("col.party")] + impedimentKinds.map(t.kind) + [
                        t("col.total"), t("col.previous"), t("col.change"),
                    ],
                    rows: impedingParties.map { p in
                        let now = impediments(input.impediments, p, nil)
                        let before = impediments(input.previousImpediments, p, nil)
                        return [p] + impedimentKinds.map { "\(impediments(input.impediments, p, $0))" } + [
                            "\(now)", "\(before)", Self.change(now, before),
                        ]
                    }, numeric: true))
        }

        // 5. Findings endorsed or contested over the week.
        doc.add(.heading(t("section.findings")))
        let weighed = input.incidents.flatMap(\.findings).filter { $0.endorsed || !$0.contestedBy.isEmpty }
        if weighed.isEmpty {
            doc.add(.paragraph(t("findings.none")))
        } else {
            doc.add(
                .table(
                    header: [
                        t("col.finding"), t("col.rule"), t("col.severity"), t("col.party"), t("col.endorsedBy"),
                        t("col.contestedBy"),
                    ],
                    rows: weighed.prefix(Self.tableRows).map {
                        [
                            $0.id, $0.rule, t.severity($0.severity), $0.party, $0.endorsedBy.joined(separator: ", "),
                            $0.contestedBy.joined(separator: ", "),
                        ]
                    }, numeric: false))
            if weighed.count > Self.tableRows { doc.add(.paragraph(t("table.more", Self.tableRows, weighed.count))) }
        }

        // 6. The guarantee.
        doc.add(.heading(t("section.guarantee")))
        if mission.coalition == nil || mission.triggers == nil {
            doc.add(.paragraph(t("guarantee.noGuarantee")))
        } else {
            var levels: [String: Int] = [:]
            let inOrder = input.alerts.enumerated().sorted {
                ($0.element.firedAt, $0.offset) < ($1.element.firedAt, $1.offset)
            }
            // Levels are set by escalations and quiet periods; alerts about members (overdue, continuity, unpledged)
            // carry the level of what they concern, not the scope's.
            let scopeKinds: Set<Alert.Kind> = [.trigger, .tripwire, .deescalation]
            for alert in inOrder.map(\.element) where alert.firedAt < period.to && scopeKinds.contains(alert.kind) {
                levels[alert.sector ?? t("guarantee.wholeLine")] = alert.level
            }
            let raised = levels.filter { $0.value > 0 }.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
            doc.add(
                .paragraph(
                    t(
                        "guarantee.levels",
                        raised.isEmpty
                            ? t("guarantee.allZero") : raised.map { "\($0.key) \($0.value)" }.joined(separator: ", "))))
            doc.add(.subheading(t("guarantee.alerts")))
            // Escalations first; alerts about deliveries and deadlines only by count past the first rows.
            let ranked =
                periodAlerts.filter { $0.kind == .tripwire || $0.kind == .trigger || $0.kind == .deescalation }
                + periodAlerts.filter { !($0.kind == .tripwire || $0.kind == .trigger || $0.kind == .deescalation) }
            if periodAlerts.isEmpty {
                doc.add(.paragraph(t("guarantee.noAlerts")))
            } else {
                let alertKinds = Self.tally(periodAlerts.map { t.alertKind($0.kind) }, order: [])
                doc.add(.paragraph(alertKinds.map { "\($0.key) \($0.count)" }.joined(separator: ", ")))
                doc.add(
                    .table(
                        header: [t("col.time"), t("col.kind"), t("col.level"), t("col.sector"), t("col.detail")],
                        rows: ranked.prefix(Self.tableRows).sorted { ($0.firedAt, $0.id) < ($1.firedAt, $1.id) }.map {
                            [
                                Self.time($0.firedAt), t.alertKind($0.kind) + ($0.provisional ? " (provisional)" : ""),
                                "\($0.level)", $0.sector ?? "-", $0.detail,
                            ]
                        }, numeric: false))
                if periodAlerts.count > Self.tableRows {
                    doc.add(.paragraph(t("table.more", Self.tableRows, periodAlerts.count)))
                }
            }
            // Obligations as they stood at the cut-off: one fulfilled since is still overdue in this day's report.
            let standing = input.obligations.compactMap { o -> Obligation? in
                guard let status = Self.status(of: o, at: period.to) else { return nil }
                var o = o
                o.status = status
                return o
            }
            let due = standing.filter { period.contains($0.deadline) }
            let overdue = standing.filter { $0.status == .overdue }
            // The public sees no obligations: they are the coalition's business (as in the API).
            if input.reader != .publicReader {
                doc.add(.paragraph(t("guarantee.obligations", due.count, overdue.count)))
            }
            let dueIds = Set(due.map(\.id))
            let allListed = due + overdue.filter { !dueIds.contains($0.id) }
            let listed = Array(allListed.prefix(Self.tableRows))
            if !listed.isEmpty {
                doc.add(
                    .table(
                        header: [t("col.member"), t("col.obligation"), t("col.deadline"), t("col.status")],
                        rows: listed.map {
                            [
                                $0.member, $0.kind.rawValue + " (" + $0.alertId + ")", Self.time($0.deadline),
                                t.obligationStatus($0.status),
                            ]
                        }, numeric: false))
                if allListed.count > listed.count {
                    doc.add(.paragraph(t("table.more", listed.count, allListed.count)))
                }
            }
            var inForce: [String: Bool] = [:]
            for s in input.sanctions where s.at < period.to { inForce[s.package] = s.activated }
            let active = inForce.filter(\.value).keys.sorted()
            doc.add(.paragraph(t("guarantee.sanctions", active.isEmpty ? t("none") : active.joined(separator: ", "))))
        }

        // 7. Spot reports.
        doc.add(.heading(t("section.spot")))
        let spots = periodAlerts.filter { Self.needsSpotReport($0, severities: input.severities) }
        if spots.isEmpty {
            doc.add(.paragraph(t("spot.none")))
        } else {
            doc.add(.list(spots.map { t("spot.item", $0.id, $0.detail) }))
        }
        doc.add(.paragraph(t("footer")))
        return doc
    }

    /// At most this many rows in a table of alerts or obligations (the API has them all).
    static let tableRows = 50

    // MARK: Shared wording

    /// Only the public's report is TLP:CLEAR. A member's or the mission's carries the coalition's own business
    /// (obligations, overdue and continuity alerts, sanctions) even when every report in it is CLEAR: at least
    /// GREEN, and AMBER once it holds a restricted report.
    static func marking(_ reader: ReportReader, _ restricted: Bool, _ t: ReportText) -> String {
        switch reader {
        case .publicReader: t("marking.clear")
        case .mission: restricted ? t("marking.restricted", "MISSION") : t("marking.coalition")
        case .member(let m): restricted ? t("marking.restricted", m) : t("marking.coalition")
        }
    }

    static func readerLine(_ reader: ReportReader, _ t: ReportText) -> String {
        switch reader {
        case .mission: t("reader.mission")
        case .member(let m): t("reader.member", m)
        case .publicReader: t("reader.public")
        }
    }

    /// `2026-03-01 02:14Z`.
    static func time(_ t: Timestamp) -> String {
        let text = t.rfc3339
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5)) + "Z"
    }

    /// The date of the day ending at `t` (its cut-off), `03-01`.
    /// An obligation's status at `t` (`nil`: not yet created): its status if it last changed by then; otherwise
    /// overdue past the deadline, else acknowledged or open.
    static func status(of o: Obligation, at t: Timestamp) -> Obligation.Status? {
        guard o.createdAt < t else { return nil }
        if o.statusAt < t { return o.status }
        if o.deadline < t { return .overdue }
        if let acknowledged = o.acknowledgedAt, acknowledged < t { return .acknowledged }
        return .open
    }

    static func day(_ t: Timestamp) -> String { String(t.rfc3339.dropFirst(5).prefix(5)) }

    /// `+3`, `-2` or `0`.
    static func change(_ now: Int, _ before: Int) -> String {
        now > before ? "+\(now - before)" : "\(now - before)"
    }

    /// Counts of each key, in `order` first, then any other key by name.
    static func tally(_ keys: [String], order: [String]) -> [(key: String, count: Int)] {
        var counts: [String: Int] = [:]
        for k in keys { counts[k, default: 0] += 1 }
        let known = order.filter { counts[$0] != nil }
        let others = counts.keys.filter { !order.contains($0) }.sorted()
        return (known + others).map { ($0, counts[$0]!) }
    }
}
