import Testing

@testable import GuarantorCore

/// The reports' fixed text is whole in both languages (a key missing in Ukrainian would print in English), and a
/// day's report states obligations as they stood at its cut-off.
@Suite struct ReportTextTests {
    @Test func everyLabelHasBothLanguages() {
        #expect(Set(ReportText.en.keys).subtracting(ReportText.uk.keys).sorted() == [])
        #expect(Set(ReportText.uk.keys).subtracting(ReportText.en.keys).sorted() == [])
        for kind in ObservationKind.allCases { #expect(ReportText.en["kind." + kind.rawValue] != nil, "\(kind)") }
    }

    @Test func obligationsAreReportedAsTheyStoodAtTheCutOff() {
        func at(_ hour: Int64) -> Timestamp { Timestamp(seconds: 1_772_323_200 + hour * 3_600) }
        let o = Obligation(
            id: "O1", alertId: "A1", member: "PL", responseId: "r1", kind: .consultations, pillar: .diplomaticMeasures,
            level: 1, sector: nil, createdAt: at(0), deadline: at(10), status: .fulfilled, statusAt: at(30),
            acknowledgedAt: at(2))
        #expect(DailyReport.status(of: o, at: at(0)) == nil, "not yet created")
        #expect(DailyReport.status(of: o, at: at(1)) == .open)
        #expect(DailyReport.status(of: o, at: at(5)) == .acknowledged)
        #expect(DailyReport.status(of: o, at: at(20)) == .overdue, "fulfilled only later: overdue at this cut-off")
        #expect(DailyReport.status(of: o, at: at(31)) == .fulfilled)
    }
}
