import Crypto
import Foundation
import GuarantorCore
import GuarantorStore

/// Daily and spot reports, drawn from what one reader may see of the results (``ResultView``), the same way for
/// `guarantor report` (over a stored engine) and for the API (over the server's view): the same log gives the same
/// `report.html` bytes.
public enum Reports {
    /// A report written out: the page, the same as Markdown, and the log position its results include.
    public struct Files: Sendable {
        public var html: [UInt8]
        public var markdown: [UInt8]
        public var through: Int64
        /// Whether it includes reports marked AMBER or above (the read is audited).
        public var restricted: Int
    }

    /// Why a report cannot be made (a bad date, an alert that is not there): the field and the reason.
    public struct Refusal: Error, CustomStringConvertible {
        public var field: String
        public var reason: String
        public var notFound = false
        public var description: String { "\(field): \(reason)" }
    }

    /// The cut-off of the SMM's daily reports.
    public static let defaultCutoff = "19:30"
    public static let defaultTimeZone = "Europe/Kyiv"

    /// The days ending at `date`'s cut-off in `timeZone`, `count` of them, oldest first: each runs from one day's
    /// cut-off to the next.
    public static func days(ending date: String, cutoff: String, timeZone: String, count: Int = 7) throws
        -> [ReportPeriod]
    {
        let d = date.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard date.count == 10, d.count == 3, let year = d[0], let month = d[1], let day = d[2],
            (1...12).contains(month), (1...31).contains(day)
        else { throw Refusal(field: "date", reason: "\"\(date)\" is not a date YYYY-MM-DD") }
        let c = cutoff.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard cutoff.count == 5, c.count == 2, let hour = c[0], let minute = c[1], (0...23).contains(hour),
            (0...59).contains(minute)
        else { throw Refusal(field: "cutoff", reason: "\"\(cutoff)\" is not a time of day HH:MM") }
        guard let zone = TimeZone(identifier: timeZone) else {
            throw Refusal(field: "timeZone", reason: "\"\(timeZone)\" is not a time zone (e.g. Europe/Kyiv, UTC)")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        func instant(_ dayOffset: Int) throws -> Timestamp {
            let parts = DateComponents(year: year, month: month, day: day + dayOffset, hour: hour, minute: minute)
            guard let t = calendar.date(from: parts) else {
                throw Refusal(field: "date", reason: "\"\(date)\" has no \(cutoff) in \(timeZone)")
            }
            return Timestamp(nanoseconds: Int64((t.timeIntervalSince1970 * 1_000).rounded()) * 1_000_000)
        }
        // The day named must exist as written (not 2026-02-31).
        let check = calendar.dateComponents(
            [.year, .month, .day], from: Date(timeIntervalSince1970: Double(try instant(0).nanoseconds) / 1e9))
        guard check.year == year, check.month == month, check.day == day else {
            throw Refusal(field: "date", reason: "\"\(date)\" is not a day of the calendar")
        }
        func localDate(_ t: Timestamp) -> String {
            let c = calendar.dateComponents(
                [.year, .month, .day], from: Date(timeIntervalSince1970: Double(t.nanoseconds) / 1e9))
            return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
        }
        return try (0..<count).reversed().map { k in
            let to = try instant(-k)
            return ReportPeriod(from: try instant(-k - 1), to: to, date: localDate(to))
        }
    }

    /// The daily report from a stored engine (the command line), as `reader` sees it.
    public static func daily(
        from stored: StoredEngine, date: String, cutoff: String = defaultCutoff, timeZone: String = defaultTimeZone,
        reader: ReportReader, language: ReportLanguage
    ) throws -> Files {
        var view = try self.view(of: stored)
        return try view.dailyReport(
            date: date, cutoff: cutoff, timeZone: timeZone, reader: reader, language: language,
            through: stored.position)
    }

    /// The spot report on an alert from a stored engine, as `reader` sees it.
    public static func spot(
        from stored: StoredEngine, alert: String, reader: ReportReader, language: ReportLanguage
    ) throws -> Files {
        var view = try self.view(of: stored)
        return try view.spotReport(alert: alert, reader: reader, language: language, through: stored.position)
    }

    /// The records of a stored engine, ready to be read as any reader sees them.
    private static func view(of stored: StoredEngine) throws -> ResultView {
        var view = ResultView(mission: stored.mission, store: stored.store, standing: stored.engine.standingFindings)
        try view.load(stored)
        return view
    }

    /// Records an issued report's files in the log (once for the same files).
    /// - Returns: the sequence number of the `report` event.
    @discardableResult public static func issue(
        _ files: [(name: String, bytes: [UInt8])], kind: String, subject: String, reader: ReportReader,
        language: ReportLanguage, through: Int64, store: EventStore
    ) throws -> Int64 {
        let issued = IssuedReport(
            kind: kind, subject: subject, reader: reader.id, language: language.rawValue, through: through,
            issuedAt: WallClock.now().rfc3339,
            files: files.map { ($0.name, EventChain.hex(Array(SHA256.hash(data: $0.bytes)))) })
        return try store.issue(issued).sequence
    }

    /// The page printed to PDF by headless Chromium (`GUARANTOR_CHROMIUM`, or `chromium` on the path).
    public static func pdf(ofHTML html: [UInt8]) throws -> [UInt8] {
        let browser = try chromium()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "guarantor-pdf-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("report.html")
        let out = directory.appendingPathComponent("report.pdf")
        try Data(html).write(to: page)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--disable-sync",
            "--user-data-dir=\(directory.appendingPathComponent("profile").path)", "--no-pdf-header-footer",
            "--print-to-pdf=\(out.path)", page.absoluteString,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let data = FileManager.default.contents(atPath: out.path),
            data.starts(with: Array("%PDF".utf8))
        else {
            throw Refusal(
                field: "format", reason: "\(browser) could not print the report (exit \(process.terminationStatus))")
        }
        return Array(data)
    }

    /// The browser that prints PDFs.
    static func chromium() throws -> String {
        if let set = ProcessInfo.processInfo.environment["GUARANTOR_CHROMIUM"], !set.isEmpty { return set }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser", "google-chrome"] {
                let candidate = "\(directory)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        throw Refusal(
            field: "format",
            reason:
                "PDF needs Chromium (apt-get install chromium, or set GUARANTOR_CHROMIUM); html and md work without it")
    }
}

extension ResultView {
    /// The incidents the reader sees whose first report falls in `period`, read through the (start, id) index.
    mutating func reportIncidents(for member: String?, in period: ReportPeriod) throws -> [Shown] {
        var filter = EventStore.SealedFilter()
        filter.startsTo = period.to.nanoseconds - 1
        return try incidents(for: member, after: (period.from.nanoseconds - 1, "\u{10FFFF}"), filter: filter) {
            $0.start >= period.from.nanoseconds && $0.start < period.to.nanoseconds
        }
    }

    /// The findings (by id) a reader may read, of those given.
    mutating func readable(_ ids: [String], by member: String?) throws -> Set<String> {
        guard let member else { return Set(ids) }
        return Set(try ids.filter { try canRead(finding: $0, member: member) })
    }

    /// The alerts as a reader sees them: ``GuarantorAPI/shownAlerts(for:)``'s rule.
    mutating func shownAlerts(for member: String?) throws -> [Alert] {
        let alerts = guarantee?.alerts ?? []
        guard let member else { return alerts }
        let readable = try readable(alerts.flatMap(\.violationIds), by: member)
        return GuarantorAPI.shownAlerts(alerts, readable: readable, member: member)
    }

    /// Impediments per kind, party and sector among `shown`, each from the reports the reader may read.
    func impediments(among shown: [Shown], for member: String?) throws -> [ImpedimentCount] {
        try Self.impediments(among: shown, for: member, mission: mission, store: store)
    }

    /// Impediments per kind, party and sector among `shown`, each from the reports the reader may read (`GET
    /// /impediments` and the daily report).
    static func impediments(among shown: [Shown], for member: String?, mission: Mission, store: EventStore) throws
        -> [ImpedimentCount]
    {
        let builder = IncidentBuilder(mission: mission)
        var tally: [String: ImpedimentCount] = [:]
        for i in shown {
            guard case .object(let m) = try JSONValue.parse(i.line), case .string(let kind) = m["kind"],
                ObservationKind(rawValue: kind)?.group == .impediment, case .array(let ids) = m["observationIds"],
                let status = IncidentStatus(rawValue: i.status)
            else { continue }
            let observationIds = ids.compactMap { id -> String? in if case .string(let s) = id { s } else { nil } }
            let visible = try store.observations(ids: observationIds).filter { o in
                member.map { Releasability.canRead(member: $0, o) } ?? true
            }
            guard
                let count = builder.impediment(
                    ofVisible: visible, status: status, late: m["late"] == JSONValue.bool(true))
            else { continue }
            MissionEngine.tally(count, into: &tally)
        }
        return MissionEngine.ordered(tally)
    }

    /// Sanctions as a reader sees them: the public only those whose alert it sees.
    func shownSanctions(alerts: [Alert], for reader: ReportReader) -> [SanctionsEvent] {
        let all = guarantee?.sanctions ?? []
        guard reader == .publicReader else { return all }
        let shown = Set(alerts.map(\.id))
        return all.filter { shown.contains($0.alertId) }
    }

    /// The daily report for `date` as `reader` sees it.
    mutating func dailyReport(
        date: String, cutoff: String, timeZone: String, reader: ReportReader, language: ReportLanguage,
        through: Int64
    ) throws -> Reports.Files {
        let days = try Reports.days(ending: date, cutoff: cutoff, timeZone: timeZone)
        let member = reader.member
        let week = ReportPeriod(from: days[0].from, to: days[days.count - 1].to)
        let shown = try reportIncidents(for: member, in: week)
        let incidents = try shown.map { try ReportIncident(line: $0.line, findings: $0.findings) }
        let today = shown.filter { days[days.count - 1].contains(Timestamp(nanoseconds: $0.start)) }
        let yesterday = shown.filter { days[days.count - 2].contains(Timestamp(nanoseconds: $0.start)) }
        let alerts = try shownAlerts(for: member)
        var severities: [String: Severity] = [:]
        for i in incidents { for f in i.findings { severities[f.id] = f.severity } }
        for f in standingFindings { severities[f.id] = f.severity }
        // An alert of the day may rest on an incident older than the week (verified late): its findings' severity
        // decides whether the day lists a spot report.
        for alert in alerts where days[days.count - 1].contains(alert.firedAt) {
            for finding in alert.violationIds where severities[finding] == nil {
                guard let id = Self.incident(ofFinding: finding), let shown = try shownIncident(id, to: member)
                else { continue }
                for f in try ReportIncident(line: shown.line, findings: shown.findings).findings {
                    severities[f.id] = f.severity
                }
            }
        }
        let input = DailyReport.Input(
            mission: mission, date: date, days: days, cutoff: "\(cutoff) \(timeZone)", reader: reader,
            language: language, incidents: incidents, impediments: try impediments(among: today, for: member),
            previousImpediments: try impediments(among: yesterday, for: member), alerts: alerts,
            obligations: reader == .publicReader ? [] : guarantee?.obligations ?? [],
            sanctions: shownSanctions(alerts: alerts, for: reader), severities: severities,
            restricted: shown.contains(where: \.restricted))
        let doc = DailyReport(input).document()
        return Reports.Files(
            html: Array(doc.html().utf8), markdown: Array(doc.markdown().utf8), through: through,
            restricted: shown.filter(\.restricted).count)
    }

    /// An incident as `member` sees it, live or sealed (`nil`: superseded, unknown, or nothing of it readable).
    mutating func shownIncident(_ id: String, to member: String?) throws -> Shown? {
        if let record = live[id] { return try show(record, to: member) }
        guard !superseded.contains(id), let row = try store.sealedIncidents(ids: [id])[id] else { return nil }
        return try show(row, to: member)
    }

    /// The spot report on alert `id` as `reader` sees it: only for a tripwire alert or one resting on a grave
    /// finding the reader may read, and only if the reader sees the alert.
    mutating func spotReport(alert id: String, reader: ReportReader, language: ReportLanguage, through: Int64) throws
        -> Reports.Files
    {
        let member = reader.member
        guard let alert = try shownAlerts(for: member).first(where: { $0.id == id })
        else { throw Reports.Refusal(field: "alert", reason: "no alert \(id) that you may read", notFound: true) }
        var incidents: [ReportIncident] = []
        var restricted = 0
        var severities: [String: Severity] = [:]
        for f in standingFindings { severities[f.id] = f.severity }
        var seen: Set<String> = []
        for finding in alert.violationIds {
            guard let incidentId = Self.incident(ofFinding: finding), seen.insert(incidentId).inserted,
                let shown = try shownIncident(incidentId, to: member)
            else { continue }
            if shown.restricted { restricted += 1 }
            let incident = try ReportIncident(line: shown.line, findings: shown.findings)
            for f in incident.findings { severities[f.id] = f.severity }
            incidents.append(incident)
        }
        guard DailyReport.needsSpotReport(alert, severities: severities) else {
            throw Reports.Refusal(
                field: "alert",
                reason:
                    "\(id) is a \(alert.kind.rawValue) alert on no grave finding you may read: spot reports are for tripwire alerts and grave violations",
                notFound: true)
        }
        let input = SpotReport.Input(
            mission: mission, alert: alert, incidents: incidents,
            obligations: reader == .publicReader ? [] : (guarantee?.obligations ?? []).filter { $0.alertId == id },
            sanctions: shownSanctions(alerts: [alert], for: reader), reader: reader, language: language,
            restricted: restricted > 0)
        let doc = SpotReport(input).document()
        return Reports.Files(
            html: Array(doc.html().utf8), markdown: Array(doc.markdown().utf8), through: through,
            restricted: restricted)
    }
}
