/// A hash table from 64-bit cell keys to the slots in each cell: open addressing with linear probing and
/// backward-shift deletion, hashed by one multiplication (the keys are packed coordinates, not adversarial input;
/// Swift's Dictionary hashes with SipHash, which dominated correlation).
struct CellTable: Sendable {
    private var keys: [Int64]
    private var values: [[Int32]]
    private var used: [Bool]
    private var mask: Int
    private(set) var count = 0

    init() {
        keys = Array(repeating: 0, count: 1024)
        values = Array(repeating: [], count: 1024)
        used = Array(repeating: false, count: 1024)
        mask = 1023
    }

    var isEmpty: Bool { count == 0 }

    @inline(__always) private func home(_ key: Int64) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    /// The slots in a cell, if any.
    @inline(__always) func slots(_ key: Int64) -> [Int32]? {
        var i = home(key)
        while used[i] {
            if keys[i] == key { return values[i] }
            i = (i + 1) & mask
        }
        return nil
    }

    mutating func append(_ slot: Int32, to key: Int64) {
        if (count + 1) * 2 > keys.count { grow() }
        var i = home(key)
        while used[i] {
            if keys[i] == key {
                values[i].append(slot)
                return
            }
            i = (i + 1) & mask
        }
        used[i] = true
        keys[i] = key
        values[i] = [slot]
        count += 1
    }

    mutating func remove(_ slot: Int32, from key: Int64) {
        var i = home(key)
        while used[i] {
            if keys[i] == key {
                values[i].removeAll { $0 == slot }
                if values[i].isEmpty { delete(at: i) }
                return
            }
            i = (i + 1) & mask
        }
    }

    /// Empties bucket `i` and moves back the entries after it that probed past it.
    private mutating func delete(at index: Int) {
        var hole = index
        var i = (index + 1) & mask
        while used[i] {
            let h = home(keys[i])
            // Move the entry into the hole unless its home lies cyclically in (hole, i].
            let between = hole <= i ? (h > hole && h <= i) : (h > hole || h <= i)
            if !between {
                keys[hole] = keys[i]
                values[hole] = values[i]
                hole = i
            }
            i = (i + 1) & mask
        }
        used[hole] = false
        values[hole] = []
        count -= 1
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values, oldUsed = used
        let capacity = keys.count * 2
        keys = Array(repeating: 0, count: capacity)
        values = Array(repeating: [], count: capacity)
        used = Array(repeating: false, count: capacity)
        mask = capacity - 1
        count = 0
        for j in oldKeys.indices where oldUsed[j] {
            var i = home(oldKeys[j])
            while used[i] { i = (i + 1) & mask }
            used[i] = true
            keys[i] = oldKeys[j]
            values[i] = oldValues[j]
            count += 1
        }
    }
}
