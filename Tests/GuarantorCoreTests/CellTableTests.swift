import Testing

@testable import GuarantorCore

/// The correlator's hash table against Swift's Dictionary, under random appends and removals (growth and
/// backward-shift deletion included).
@Suite struct CellTableTests {
    @Test func randomAppendsAndRemovalsMatchADictionary() {
        var table = CellTable()
        var reference: [Int64: [Int32]] = [:]
        var rng = SplitMix64(seed: 9)
        for step in 0..<200_000 {
            // Few distinct keys, so that probes collide and chains form.
            let key = Int64(bitPattern: rng.next() % 5_000) << 28
            let slot = Int32(rng.next() % 8)
            if rng.next() % 3 == 0 {
                table.remove(slot, from: key)
                reference[key]?.removeAll { $0 == slot }
                if reference[key]?.isEmpty == true { reference[key] = nil }
            } else {
                table.append(slot, to: key)
                reference[key, default: []].append(slot)
            }
            if step % 10_000 == 0 {
                #expect(table.count == reference.count)
                for k in 0..<5_000 {
                    let key = Int64(k) << 28
                    #expect(table.slots(key) == reference[key])
                }
            }
        }
    }
}
