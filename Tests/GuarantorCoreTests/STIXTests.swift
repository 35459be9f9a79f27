import Foundation
import Testing

@testable import GuarantorCore

/// The STIX bundle's fixed parts: the TLP 2.0 marking definitions exactly as OASIS publishes them (the validator does
/// not catch a changed one), and ids that are RFC 4122 version-5 UUIDs of the record's id.
@Suite struct STIXTests {
    @Test func markingDefinitionsAreTheOfficialObjects() throws {
        for (tlp, file) in [
            (TLP.clear, "clear"), (.green, "green"), (.amber, "amber"), (.amberStrict, "amber+strict"), (.red, "red"),
        ] {
            let url = Bundle.module.url(forResource: "Fixtures/tlp2/tlp-\(file)", withExtension: "json")!
            let canonical = try JSONValue.parse(Array(try Data(contentsOf: url)))
            guard case .object(let bundle) = canonical, case .array(let objects) = bundle["objects"] else {
                Issue.record("\(file): not a bundle")
                continue
            }
            let ours = try JSONValue.parse(Array(STIXBundle.markingDefinition(tlp).utf8))
            #expect(objects == [ours], "\(file)")
            // The keys in OASIS's order, too (a reader diffing the files sees the same object).
            let file = String(decoding: try Data(contentsOf: url), as: UTF8.self)
            let text = String(file[file.range(of: "\"objects\"")!.upperBound...])
            let keys = ["type", "spec_version", "id", "created", "name", "extensions", "extension_type", "tlp_2_0"]
            let positions = keys.map { text.range(of: "\"\($0)\"")!.lowerBound }
            let ourPositions = keys.map { STIXBundle.markingDefinition(tlp).range(of: "\"\($0)\"")!.lowerBound }
            #expect(positions == positions.sorted() && ourPositions == ourPositions.sorted(), "\(file)")
        }
    }

    /// RFC 4122 appendix B's example is for version 3; version 5's known answer (Python's uuid.uuid5 of the DNS
    /// namespace and "python.org") checks the hashing and the bits.
    @Test func idsAreVersion5UUIDs() {
        let dns: [UInt8] = [
            0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
        ]
        #expect(STIXBundle.uuid5(Array("python.org".utf8), namespace: dns) == "886313e1-3b8a-5372-9b90-0c9aee199e5d")
        #expect(STIXBundle.time(Timestamp(nanoseconds: 1_772_355_600_123_456_789)) == "2026-03-01T09:00:00.123Z")
        #expect(STIXBundle.time(Timestamp(seconds: 1_772_355_600)) == "2026-03-01T09:00:00.000Z")
    }
}
