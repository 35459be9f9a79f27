import ArgumentParser
import Foundation
import GuarantorCore
import GuarantorStore

/// `guarantor status --mission DIR --store FILE`: the state of the guarantee at a glance.
public struct StatusCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status",
        abstract:
            "The state of the guarantee: levels per sector, obligations by member, the deterrence force, logistics, sanctions."
    )

    @Option(help: "The mission directory.") var mission: String
    @Option(help: "The store (its event log is replayed).") var store: String?
    @Option(help: "Or an observation file…") var observations: String?
    @Option(help: "…and an actions file.") var actions: String?

    public init() {}

    public func validate() throws {
        guard (observations == nil) != (store == nil) else {
            throw ValidationError("give either --store FILE or --observations FILE [--actions FILE]")
        }
    }

    public func run() throws {
        let mission = try Files.loadMission(self.mission)
        if let store {
            // From the latest snapshot and the log after it.
            var engine = try Files.openEngine(missionDirectory: self.mission, mission: mission, store: store)
            let c = engine.counts
            print(
                Self.report(
                    mission: mission, incidents: c.incidents, violations: c.findings, verified: c.verifiedFindings,
                    guarantee: engine.guarantee))
            Files.snapshotIfLong(&engine)
        } else {
            let (batch, actions) = try Files.inputs(
                mission: mission, observations: observations, actions: self.actions, store: nil)
            let output = Replay.run(mission: mission, batch: batch, actions: actions)
            let verified = output.verification.violations.filter { $0.incidentStatus == .verified }.count
            print(
                Self.report(
                    mission: mission, incidents: output.incidentCount, violations: output.violationCount,
                    verified: verified, guarantee: output.guarantee))
        }
    }

    static func report(
        mission: Mission, incidents: Int, violations: Int, verified: Int, guarantee: GuaranteeResults?
    ) -> String {
        guard let g = guarantee, let coalition = mission.coalition, let book = mission.triggers else {
            return "Mission \(mission.agreement.id) has no coalition.json and triggers.json: verification only "
                + "(\(incidents.grouped) incidents, \(violations.grouped) violations)."
        }
        var lines: [String] = []
        func table(_ rows: [[String]]) {
            let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max()! }
            for row in rows {
                lines.append(
                    "  "
                        + row.enumerated().map { c, cell in
                            c == 0
                                ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                                : String(repeating: " ", count: widths[c] - cell.count) + cell
                        }.joined(separator: "  "))
            }
        }
        lines.append("Guarantee of \"\(mission.agreement.title)\" at \(g.clock.rfc3339) (event time)")
        lines.append(
            "  \(incidents.grouped) incidents, \(violations.grouped) violations (\(verified.grouped) verified), \(g.alerts.count.grouped) alerts"
        )
        lines.append("")
        lines.append("Escalation levels (0 = none)")
        let raised = g.levels.filter { $0.value > 0 }.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        if raised.isEmpty { lines.append("  every sector at 0") }
        for (scope, level) in raised {
            lines.append("  \(scope.isEmpty ? "(no sector)" : scope): \(level) — \(book.levels[level - 1].name)")
        }
        lines.append("")
        let statuses: [Obligation.Status] = [.open, .acknowledged, .overdue, .fulfilled, .declined]
        lines.append("Obligations by member (\(g.obligations.count.grouped) in all)")
        var rows = [["member"] + statuses.map(\.rawValue)]
        for member in coalition.members.map(\.id) {
            let mine = g.obligations.filter { $0.member == member }
            guard !mine.isEmpty else { continue }
            rows.append([member] + statuses.map { s in "\(mine.filter { $0.status == s }.count)" })
        }
        if rows.count > 1 { table(rows) } else { lines.append("  none") }
        lines.append("")
        let deployed = coalition.deployed(at: g.clock)
        let pledged = coalition.contributions.values.reduce(0, +)
        lines.append(
            "Deterrence force: \(deployed.values.reduce(0, +).grouped) deployed, \(pledged.grouped) pledged, ceiling \(coalition.ceiling.grouped)"
        )
        rows = [["nation", "pledged", "deployed"]]
        for member in coalition.members.map(\.id)
        where coalition.contributions[member] != nil || deployed[member] != nil {
            rows.append([member, (coalition.contributions[member] ?? 0).grouped, (deployed[member] ?? 0).grouped])
        }
        if rows.count > 1 { table(rows) }
        lines.append("")
        lines.append("Military support pledges")
        rows = [["pledge", "member", "kind", "quantity", "from level"]]
        for p in coalition.pledges where p.pillar == .militarySupport {
            rows.append([
                p.id, p.member, p.supportKind?.rawValue ?? "unstated", p.quantity.map(JSONFields.format) ?? "-",
                p.fromLevel.map(String.init) ?? "any",
            ])
        }
        if rows.count > 1 { table(rows) } else { lines.append("  none") }
        lines.append("")
        lines.append("Logistics continuity")
        rows = [["pledge", "member", "item", "per period", "delivered", "alerts"]]
        for p in coalition.pledges where p.pillar == .logistics {
            let alerts = g.alerts.filter { $0.pledgeId == p.id }.count
            rows.append([
                p.id, p.member, p.item!,
                "\(JSONFields.format(p.quantity!)) \(p.unit!) / \(JSONFields.format(p.periodDays!)) d",
                JSONFields.format(g.delivered[p.id] ?? 0), "\(alerts)",
            ])
        }
        if rows.count > 1 { table(rows) } else { lines.append("  no logistics pledges") }
        lines.append("")
        lines.append("Sanctions packages")
        for package in coalition.sanctionsPackages {
            let last = g.sanctions.last { $0.package == package.id }
            let state =
                last.map {
                    $0.activated ? "active since \($0.at.rfc3339) (alert \($0.alertId))" : "lifted \($0.at.rfc3339)"
                }
                ?? "inactive (level \(package.level))"
            lines.append("  \(package.id): \(state)")
        }
        if coalition.sanctionsPackages.isEmpty { lines.append("  none") }
        let recent = g.alerts.filter { $0.kind != .continuity }.suffix(8)
        if !recent.isEmpty {
            lines.append("")
            lines.append("Latest alerts")
            for a in recent {
                lines.append(
                    "  \(a.firedAt.rfc3339)  \(a.kind.rawValue)\(a.provisional ? " (provisional)" : "")  level \(a.level)  \(a.sector ?? "-")  \(a.detail)"
                )
            }
        }
        return lines.joined(separator: "\n")
    }
}
