import Foundation
import GuarantorStore
import GuarantorTesting
import Testing

@testable import GuarantorCore

/// The fast decoder reads what the general reader reads, and nothing it refuses.
@Suite struct ObservationDecoderTests {
    static let mission = EngineEquivalenceTests.mission

    static func general(_ line: [UInt8]) -> Observation? {
        try? Observation(json: JSONValue.parse(line), isKnownSource: mission.sources.contains)
    }

    static func fast(_ line: [UInt8]) -> Observation? {
        line.withUnsafeBufferPointer { ObservationDecoder.decode($0, isKnownSource: mission.sources.contains) }
    }

    /// Simulated observations in canonical form, then each broken or bent in many ways.
    @Test func whatTheFastDecoderReadsTheGeneralReaderReadsTheSame() {
        let observations = Simulator.run(mission: Self.mission, seed: 5, hours: 12).observations
        var lines = observations.map(\.canonicalJSON)
        var read = 0
        for line in lines {
            let fast = Self.fast(line)
            #expect(fast == Self.general(line))
            if fast != nil { read += 1 }
        }
        // The plain lines (nearly all) go the fast way.
        #expect(read * 100 >= lines.count * 95, "\(read) of \(lines.count)")
        // Bent: members reordered and spaced, numbers written otherwise, values out of range, unknown members,
        // nulls, escapes, truncations, random bytes.
        var rng = SplitMix64(seed: 11)
        let edits: [(String, String)] = [
            (",", " , "), (":", " : "), ("\"lat\":", "\"lat\":1e1+"),
            ("\"uncertaintyMeters\":", "\"uncertaintyMeters\":-"),
            ("\"kind\":\"", "\"kind\":\"x"), ("\"id\":\"", "\"id\":\"\\u0041"), ("\"source\":\"", "\"source\":\"z"),
            ("}", ",\"extra\":1}"), ("\"lon\":", "\"lon\":2"), ("\"lat\":", "\"lat\":9"), ("Z\"", "+02:00\""),
            (".", "0."), ("\"observedAt\"", "\"reportedAt\":null,\"observedAt\""), ("{\"id\"", "{\"count\":0.5,\"id\""),
            ("{\"id\"", "{\"count\":7,\"id\""), ("{\"id\"", "{\"bearingDegrees\":360,\"id\""),
            ("{\"id\"", "{\"credibility\":6,\"id\""), ("{\"id\"", "{\"tlp\":\"AMBER+STRICT\",\"id\""),
            ("{\"id\"", "{\"timeUncertaintySeconds\":90000,\"id\""), ("{\"id\"", "{\"id\":\"dup\",\"id\""),
            ("{\"id\"", "{\"text\":\"caf\\u00e9\",\"id\""), ("{\"id\"", "{\"recipients\":[\"FR\"],\"id\""),
            ("{\"id\"", "{\"origin\":null,\"id\""), ("{\"id\"", "{\"weaponClass\":\"tank\",\"id\""),
            ("{\"id\"", "{\"submittedBy\":\"\",\"id\""), ("{\"id\"", "{\"originator\":\"FR\",\"id\""),
            ("{\"id\"", "{\"lat\":0.1234567890123456789,\"id\""),
        ]
        var checked = 0
        for line in lines.prefix(400) {
            let text = String(decoding: line, as: UTF8.self)
            for (from, to) in edits {
                guard let range = text.range(of: from) else { continue }
                let bent = Array(text.replacingCharacters(in: range, with: to).utf8)
                if let fast = Self.fast(bent) {
                    #expect(fast == Self.general(bent), "\(String(decoding: bent, as: UTF8.self))")
                }
                checked += 1
            }
            var noisy = line
            for _ in 0..<3 {
                let at = Int(rng.next() % UInt64(noisy.count))
                switch rng.next() % 3 {
                case 0: noisy.remove(at: at)
                case 1: noisy.insert(UInt8(truncatingIfNeeded: rng.next() % 128), at: at)
                default: noisy[at] = UInt8(truncatingIfNeeded: rng.next() % 128)
                }
            }
            if let fast = Self.fast(noisy) { #expect(fast == Self.general(noisy)) }
            lines.append(noisy)
        }
        #expect(checked > 5_000)
    }

    @Test func numbersAreReadExactlyAsTheGeneralReaderReadsThem() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<20_000 {
            let digits = Int(rng.next() % 17) + 1
            var text = (rng.next() % 2 == 0 ? "-" : "") + String(rng.next() % 1_000)
            text += "." + String((0..<digits).map { _ in Character(String(rng.next() % 10)) })
            let line = Array(
                #"{"id":"n","source":"us-acoustic-07","observedAt":"2026-03-01T00:00:00Z","kind":"explosion","location":{"lon":35.1,"lat":48.2,"uncertaintyMeters":\#(text.hasPrefix("-") ? String(text.dropFirst()) : text)}}"#
                    .utf8)
            let fast = Self.fast(line)
            #expect(fast != nil && fast == Self.general(line), "\(text)")
        }
    }
}
