import Testing

@testable import GuarantorCore

@Suite struct ObservationTests {
    static let good =
        #"{"id":"o1","source":"us-acoustic-07","observedAt":"2026-03-01T02:14:00Z","kind":"artilleryFire","location":{"lon":37.8,"lat":48.6,"uncertaintyMeters":150}}"#
    static func known(_ id: String) -> Bool { id == "us-acoustic-07" }

    static func replacing(_ old: String, _ new: String) -> String { good.replacingOccurrences(of: old, with: new) }

    @Test func readsAndCanonicalisesAFullObservation() throws {
        let text =
            #"{"id":"o2","source":"us-acoustic-07","observedAt":"2026-03-01T04:14:00+02:00","kind":"mlrsFire","location":{"lon":37.8,"lat":48.6,"uncertaintyMeters":150},"reportedAt":"2026-03-01T03:00:00Z","origin":{"lon":38.1,"lat":48.7,"uncertaintyMeters":2000},"bearingDegrees":71.5,"weaponClass":"mlrs","count":12,"credibility":2,"tlp":"AMBER+STRICT","text":"salvo","evidence":[{"sha256":"\#(String(repeating: "ab", count: 32))","mediaType":"image/jpeg"}]}"#
        let o = try Observation(json: JSONValue.parse(text), isKnownSource: Self.known)
        #expect(o.observedAt.rfc3339 == "2026-03-01T02:14:00Z")
        #expect(o.tlp == .amberStrict && o.count == 12 && o.evidence.count == 1)
        let again = try Observation(json: JSONValue.parse(o.canonicalJSON), isKnownSource: Self.known)
        #expect(again == o)
        #expect(again.canonicalJSON == o.canonicalJSON)
    }

    @Test(
        arguments: [
            (replacing(#""lat":48.6"#, #""lat":91.2"#), "location.lat", "outside -90…90"),
            (replacing(#""lon":37.8"#, #""lon":-181"#), "location.lon", "outside -180…180"),
            (replacing("us-acoustic-07", "nobody"), "source", "unknown source"),
            (replacing("artilleryFire", "artillery"), "kind", "is not one of"),
            (replacing(#""id":"o1","#, ""), "id", "is required"),
            (replacing(#""id":"o1""#, #""id":"""#), "id", "must be 1…200"),
            (replacing("150}", "-1}"), "location.uncertaintyMeters", "outside 0…"),
            (replacing("2026-03-01T02:14:00Z", "yesterday"), "observedAt", "not an RFC 3339"),
            (replacing("}}", #"},"reportedAt":"2026-03-01T01:00:00Z"}"#), "reportedAt", "before observedAt"),
            (replacing("}}", #"},"bearingDegrees":360}"#), "bearingDegrees", "outside 0…360"),
            (replacing("}}", #"},"credibility":7}"#), "credibility", "1…6"),
            (replacing("}}", #"},"count":1.5}"#), "count", "whole number"),
            (replacing("}}", #"},"tlp":"PURPLE"}"#), "tlp", "is not one of"),
            (replacing("}}", #"},"colour":"red"}"#), "colour", "unknown field"),
            (
                replacing("}}", #"},"evidence":[{"sha256":"xyz","mediaType":"image/png"}]}"#), "evidence[0].sha256",
                "64 lowercase"
            ),
            (replacing(#""location":{"#, #""location":{"altitude":3,"#), "location.altitude", "unknown field"),
        ] as [(String, String, String)])
    func rejectsBadFieldsByName(text: String, field: String, reason: String) throws {
        do {
            _ = try Observation(json: JSONValue.parse(text), isKnownSource: Self.known)
            Issue.record("accepted \(text)")
        } catch let error as FieldError {
            #expect(error.path == field)
            #expect(error.reason.contains(reason), "\(error)")
        }
    }

    @Test func batchListsEveryErrorWithItsLine() throws {
        let lines = [
            Self.good,
            Self.replacing(#""lat":48.6"#, #""lat":91.2"#),
            "",
            "{not json",
            Self.good,
            Self.replacing("o1", "o3"),
        ]
        guard
            case .failure(let rejection) = ObservationBatch.parse(
                Array(lines.joined(separator: "\n").utf8), isKnownSource: Self.known)
        else {
            Issue.record("a batch with bad lines was accepted")
            return
        }
        #expect(rejection.errors.map(\.line) == [2, 4, 5])
        #expect(rejection.errors[0].description == "line 2: location.lat: lat 91.2 is outside -90…90")
        #expect(rejection.errors[1].reason.contains("malformed JSON"))
        #expect(rejection.errors[2].description.contains("duplicate id \"o1\" (first on line 1)"))
    }

    @Test func emptyAndBlankFilesAreRejected() {
        guard case .failure(let empty) = ObservationBatch.parse([], isKnownSource: Self.known) else {
            Issue.record(); return
        }
        #expect(empty.errors[0].reason.contains("0 bytes"))
        guard case .failure(let blank) = ObservationBatch.parse(Array("\n \n".utf8), isKnownSource: Self.known) else {
            Issue.record(); return
        }
        #expect(blank.errors[0].reason.contains("no observations"))
    }

    @Test func crlfAndTrailingNewlinesAreFine() throws {
        let text = Self.good + "\r\n" + Self.replacing("o1", "o2") + "\r\n\r\n"
        let batch = try ObservationBatch.parse(Array(text.utf8), isKnownSource: Self.known).get()
        #expect(batch.observations.map(\.id) == ["o1", "o2"])
        #expect(batch.lineNumbers == [1, 2])
    }

    @Test func overlongLinesAreRejected() {
        let text = Self.replacing("}}", #"},"text":"\#(String(repeating: "x", count: 70_000))"}"#)
        guard case .failure(let r) = ObservationBatch.parse(Array(text.utf8), isKnownSource: Self.known) else {
            Issue.record(); return
        }
        #expect(r.errors[0].reason.contains("longer than 65536 bytes"))
    }
}
