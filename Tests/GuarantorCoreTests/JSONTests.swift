import Testing

@testable import GuarantorCore

@Suite struct JSONTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONValue.parse(#"{"a":[1,-2.5e3,true,false,null],"b":"x\"\u00e9\ud83d\ude00\n"}"#)
        #expect(
            value
                == .object([
                    "a": .array([.number(1), .number(-2500), .bool(true), .bool(false), .null]),
                    "b": .string("x\"é😀\n"),
                ]))
    }

    @Test(arguments: [
        ("", "empty input"), ("{", "expected a member name"), (#"{"a":1,"a":2}"#, "duplicate member"),
        ("[1,]", "unexpected character"),
        ("01", "unexpected text"), ("1.", "digits expected"), (#""\x""#, "invalid escape"),
        ("NaN", "unexpected character"),
        (#""\ud800""#, "unpaired surrogate"), ("[1] x", "unexpected text"), ("1e999", "out of range"),
    ])
    func rejectsMalformedText(text: String, reason: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
        do { _ = try JSONValue.parse(text) } catch { #expect(error.reason.contains(reason), "\(text): \(error)") }
    }

    @Test func refusesDeepNesting() {
        #expect(throws: JSONParseError.self) {
            try JSONValue.parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100))
        }
    }

    @Test func writerIsStableAndEscapes() throws {
        var w = JSONWriter()
        w.value(.object(["z": .number(1.5), "a": .string("q\"\\\u{01}"), "m": .array([.number(3), .null])]))
        #expect(w.string == #"{"a":"q\"\\\u0001","m":[3,null],"z":1.5}"#)
        #expect(try JSONValue.parse(w.string) == JSONValue.parse(#"{"z":1.5,"a":"q\"\\\u0001","m":[3,null]}"#))
        var r = JSONWriter()
        r.number(1234.5678, decimals: 2)
        #expect(r.string == "1234.57")
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z"), ("2026-03-01T12:00:00.250+02:00", "2026-03-01T10:00:00.25Z"),
        ("2024-02-29t23:59:59.123456789z", "2024-02-29T23:59:59.123456789Z"),
        ("1970-01-01T00:00:00-01:30", "1970-01-01T01:30:00Z"),
    ])
    func parsesAndWritesUTC(text: String, utc: String) throws {
        let t = try #require(Timestamp(rfc3339: text))
        #expect(t.rfc3339 == utc)
        #expect(Timestamp(rfc3339: utc) == t)
    }

    @Test(arguments: [
        "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01 00:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T00:00:00", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567890Z", "1969-12-31T23:59:59Z",
        "tomorrow",
    ])
    func rejectsInvalidTimes(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func roundTripsEveryDayForDecades() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<2000 {
            let t = Timestamp(nanoseconds: Int64.random(in: 0...(4_000_000_000 * 1_000_000_000), using: &rng))
            #expect(Timestamp(rfc3339: t.rfc3339) == t)
        }
    }
}
