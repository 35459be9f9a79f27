/// A spot report on one grave happening: a tripwire alert, or an alert resting on a grave finding. What fired, when
/// and where; the incidents behind it the reader may see, with a map; the obligations it raised and the sanctions it
/// set off. Pure, like ``DailyReport``.
public struct SpotReport: Sendable {
    public struct Input: Sendable {
        public var mission: Mission
        /// The alert as the reader sees it (its findings cut to those the reader may read).
        public var alert: Alert
        /// The incidents of the findings the reader may read.
        public var incidents: [ReportIncident]
        /// The obligations the alert raised that the reader may see.
        public var obligations: [Obligation]
        public var sanctions: [SanctionsEvent]
        public var reader: ReportReader
        public var language: ReportLanguage
        public var restricted: Bool

        public init(
            mission: Mission, alert: Alert, incidents: [ReportIncident],
            obligations: [Obligation], sanctions: [SanctionsEvent], reader: ReportReader, language: ReportLanguage,
            restricted: Bool
        ) {
            self.mission = mission
            self.alert = alert
            self.incidents = incidents
            self.obligations = obligations
            self.sanctions = sanctions
            self.reader = reader
            self.language = language
            self.restricted = restricted
        }
    }

    public let input: Input
    public init(_ input: Input) { self.input = input }

    public func document() -> ReportDocument {
        let t = ReportText(input.language)
        let a = input.alert
        var doc = ReportDocument(
            title: t("spot.title", a.id), marking: DailyReport.marking(input.reader, input.restricted, t),
            language: input.language)
        doc.add(.paragraph(t("mission", input.mission.agreement.title)))
        doc.add(.paragraph(DailyReport.readerLine(input.reader, t)))
        doc.add(
            .paragraph(t("spot.summary", t.alertKind(a.kind), DailyReport.time(a.firedAt), a.level, a.sector ?? "-")))
        doc.add(.paragraph(a.detail))
        // Only the readable ones are counted: how many more there are is not the reader's to know.
        doc.add(.paragraph(t("spot.findings", a.violationIds.count)))
        let shownFindings = Set(a.violationIds)
        if !input.incidents.isEmpty {
            doc.add(.subheading(t("spot.incidents")))
            doc.add(
                .table(
                    header: [
                        t("col.incident"), t("col.time"), t("col.kind"), t("col.status"), t("col.place"),
                        t("col.reports"), t("col.finding"), t("col.severity"), t("col.party"),
                    ],
                    rows: input.incidents.flatMap { i in
                        i.findings.filter { shownFindings.contains($0.id) }.map { f in
                            [
                                i.id, DailyReport.time(i.start), t.kind(i.kind), t.status(i.status),
                                Self.place(i),
                                "\(i.sources.count)", f.rule, t.severity(f.severity), f.party,
                            ]
                        }
                    }, numeric: false))
            let points = input.incidents.map(\.point)
            doc.add(.subheading(t("spot.map")))
            doc.add(
                .figure(
                    svg: ReportFigures.map(
                        line: input.mission.line.parts, sites: input.mission.coalition?.sites ?? [],
                        dots: input.incidents.map {
                            ReportFigures.Dot(
                                point: $0.point, colour: ReportFigures.statusColours[$0.status]!, radius: 6,
                                title: "\($0.id) \(t.kind($0.kind))")
                        }, focus: points, margin: 0.25,
                        legend: IncidentStatus.allCases.map { (t.status($0), ReportFigures.statusColours[$0]!) }),
                    caption: t("map.caption")))
        }
        doc.add(.subheading(t("spot.obligations")))
        if input.obligations.isEmpty {
            doc.add(.paragraph(t("spot.noObligations")))
        } else {
            doc.add(
                .table(
                    header: [t("col.member"), t("col.obligation"), t("col.deadline"), t("col.status")],
                    rows: input.obligations.map {
                        [$0.member, $0.kind.rawValue, DailyReport.time($0.deadline), t.obligationStatus($0.status)]
                    }, numeric: false))
        }
        let set = input.sanctions.filter { $0.alertId == a.id && $0.activated }.map(\.package)
        doc.add(.paragraph(t("spot.sanctions", set.isEmpty ? t("none") : set.joined(separator: ", "))))
        doc.add(.paragraph(t("footer")))
        return doc
    }

    /// `48.4647 N, 35.0462 E, ± 200 m, km 450-500`.
    static func place(_ i: ReportIncident) -> String {
        func four(_ x: Double) -> String {
            let n = Int((abs(x) * 10_000).rounded())
            let fraction = String(n % 10_000)
            return "\(n / 10_000).\(String(repeating: "0", count: 4 - fraction.count))\(fraction)"
        }
        return
            "\(four(i.point.lat)) \(i.point.lat >= 0 ? "N" : "S"), \(four(i.point.lon)) \(i.point.lon >= 0 ? "E" : "W"), ± \(Int(i.uncertaintyMeters.rounded())) m"
            + (i.sector.map { ", \($0)" } ?? "")
    }
}
