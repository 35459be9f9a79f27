import Foundation

/// The open part of correlation: the observations a timely observation may still link to, grouped into incidents.
///
/// Two observations are linked when they belong to one kind group and are close in event time and space, allowing for
/// the uncertainty each states. Precise observations (anchors) form groups as the connected components of their
/// links; each imprecise observation belongs to the group of the anchor it is closest to (in units of the link
/// distance and window, ties to the earlier anchor by (observedAt, id)); imprecise observations near no anchor form
/// groups among themselves. All three are kept up to date as observations arrive, and none depends on the order of
/// arrival.
///
/// An imprecise observation that two groups explain about equally — its nearest anchor in one and its nearest in another
/// within ``ambiguityMargin`` of each other — stays with the group of the nearer for sealing, but is built as an
/// incident of its own, marked ambiguous (``units(of:)``). Anchor groups only ever merge, and one is sealed only when no
/// timely observation can link to it, so what decides this is known by the time the group is sealed; the anchors of a
/// group sealed earlier are remembered by the separation of the nearest (``Rival``).
///
/// A group whose newest member is older than the watermark (the latest event time of a timely observation) minus the
/// horizon (allowed lateness + the widest window + the largest time slack) can change no more: no timely observation
/// can link to any of its members. It is *sealed*: taken out, built for the last time, and forgotten.
struct Correlator: Sendable {
    let policy: VerificationPolicy
    /// Allowed lateness, nanoseconds.
    let lateness: Int64
    /// How far behind the watermark a member must be for its group to be sealed, nanoseconds.
    let horizon: Int64
    /// The latest event time of a timely observation (`Int64.min` before the first).
    private(set) var watermark = Int64.min

    struct Link: Sendable {
        var position: Vector3
        var time: Int64
        var spatialUncertainty: Double
        var timeUncertainty: Double
        var kind: ObservationKind

        init(position: Vector3, time: Int64, spatialUncertainty: Double, timeUncertainty: Double, kind: ObservationKind)
        {
            self.position = position
            self.time = time
            self.spatialUncertainty = spatialUncertainty
            self.timeUncertainty = timeUncertainty
            self.kind = kind
        }

        /// What a report links by.
        init(_ report: Report) {
            self.init(
                position: report.position, time: report.time,
                spatialUncertainty: report.observation.location.uncertaintyMeters,
                timeUncertainty: report.timeUncertainty, kind: report.observation.kind)
        }
    }

    // Per slot; a freed slot is reused.
    private(set) var reports: [Report] = []
    private var links: [Link] = []
    private var kindGroup: [UInt8] = []
    private(set) var isAnchor: [Bool] = []
    private(set) var groupOf: [Int32] = []
    private var indexInGroup: [Int32] = []
    /// Imprecise: the anchor it belongs with, or -1 (then it is *unattached*).
    private var best: [Int32] = []
    private var bestSeparation: [Double] = []
    /// Imprecise and attached: the nearest anchor linked to it in a group sealed while it was open, by slot.
    private(set) var sealedRivals: [Int32: Rival] = [:]
    /// Anchor: linked to an imprecise observation whose anchor it is not (or no longer), so that when its group is
    /// sealed it may be that observation's rival. Every anchor linked to an imprecise one is its anchor or marked.
    private var mayBeRival: [Bool] = []
    private var cellOf: [Int64] = []
    private var slotGeneration: [UInt32] = []
    /// The order in which open observations arrived (a snapshot adds them again in that order).
    private var arrival: [Int64] = []
    private var arrivals: Int64 = 0
    /// Named by a review action (its incident key, or its id in a split).
    private(set) var isNamed: [Bool] = []
    private(set) var keys: [UInt64] = []
    private var hasKey: [Bool] = []
    private var freeSlots: [Int32] = []
    /// Open observations by kind group, place and span of time, each index with its own bounds: [0] the anchors,
    /// then the others by how precise they are — as precise as an anchor (a party's claim), a few kilometres and
    /// minutes (a patrol), vaguer (open sources) — so that the few vague ones do not widen every search.
    private var cellIndexes = [
        CellIndex(degrees: 0.05, seconds: 600), CellIndex(degrees: 0.05, seconds: 600),
        CellIndex(degrees: 0.1, seconds: 1_800), CellIndex(degrees: 0.2, seconds: 3_600),
    ]
    private static let anchorIndex = 0
    private static let looseIndexes = 1...3

    /// The index of ``cellIndexes`` an observation goes in.
    private static func cellIndex(anchor: Bool, _ link: Link) -> Int {
        if anchor { return anchorIndex }
        if link.spatialUncertainty <= anchorMaximumUncertaintyMeters
            && link.timeUncertainty <= anchorMaximumTimeUncertaintySeconds
        {
            return 1
        }
        return link.spatialUncertainty <= 5_000 && link.timeUncertainty <= 600 ? 2 : 3
    }

    /// The anchors linked to observation `i`.
    private func anchorNeighbours(of i: Int32) -> [Int32] {
        var found: [Int32] = []
        neighbours(of: i, in: Self.anchorIndex, into: &found)
        return found
    }

    /// The non-anchors linked to observation `i`.
    private func looseNeighbours(of i: Int32) -> [Int32] {
        var found: [Int32] = []
        for k in Self.looseIndexes { neighbours(of: i, in: k, into: &found) }
        return found
    }

    struct Group: Sendable {
        var members: [Int32] = []
        var newest = Int64.min
        var live = true
        var dirty = false
        var generation: UInt32 = 0
        /// Members named by review actions.
        var named: Int32 = 0
        /// A token that identifies this group's life (a group index is reused).
        var owner: UInt64 = 0
        /// The ids of the units published for it and not yet taken back.
        var published: [String] = []
    }

    private(set) var groups: [Group] = []
    private var freeGroups: [Int32] = []
    private var nextOwner: UInt64 = 1
    private var sealQueue = MostlyOrderedQueue<Entry>()
    private var oldest = MostlyOrderedQueue<Entry>()
    /// Groups changed since ``takeDirty()``.
    private var dirty: [Int32] = []
    /// Incident keys of open observations, kept once keys are wanted.
    private(set) var slotOfKey: [UInt64: Int32] = [:]
    private(set) var keysWanted = false
    private let widestWindow: Double

    struct Entry: Comparable, Sendable {
        var time: Int64
        var index: Int32
        var generation: UInt32
        static func < (l: Entry, r: Entry) -> Bool { (l.time, l.index) < (r.time, r.index) }
    }

    static let groupOrdinals = Dictionary(
        uniqueKeysWithValues: KindGroup.allCases.enumerated().map { ($1, UInt8($0)) })
    private let windows: [VerificationPolicy.Window]

    /// How much farther a report of another kind of the same family is (mortar fire reported, artillery fire seen):
    /// half a reach. Kinds that agree explain a report better; kinds that differ still link.
    static let otherKindPenalty = 0.5

    /// How far stated uncertainties widen a link, as a multiple of their root-sum-square: stated uncertainties are
    /// 95 % radii (≈ 2σ), so 1.5 × √(u₁² + u₂²) is three standard deviations of the two reports' combined error.
    static let uncertaintyReach = 1.5

    /// How close two incidents' explanations of a report must be for the report to be ambiguous: a tenth of a reach
    /// (``separation(_:_:_:)``).
    static let ambiguityMargin = 0.1

    /// The nearest anchor an imprecise observation links to in a group other than its own.
    struct Rival: Sendable, Equatable {
        var separation: Double
        var anchorId: String
        var anchorTime: Int64

        /// Nearer, then earlier by (observedAt, id).
        func isBetter(than other: Rival) -> Bool {
            if separation != other.separation { return separation < other.separation }
            return (anchorTime, anchorId) < (other.anchorTime, other.anchorId)
        }
    }

    /// Anchors: observations precise enough to found an incident.
    static let anchorMaximumUncertaintyMeters = 1_000.0
    static let anchorMaximumTimeUncertaintySeconds = 120.0

    init(policy: VerificationPolicy) {
        self.policy = policy
        lateness = Self.nanos(policy.allowedLatenessSeconds)
        windows = KindGroup.allCases.map { policy.window(for: $0) }
        widestWindow = policy.windows.values.map(\.seconds).max() ?? 0
        // One second more than the exact reach, so that rounding to nanoseconds can never seal a group too early.
        horizon = Self.nanos(
            policy.allowedLatenessSeconds + VerificationPolicy.maximumTimeSlackSeconds + widestWindow + 1)
    }

    static func nanos(_ seconds: Double) -> Int64 { Int64(seconds * 1e9) }

    /// Whether an observation at event time `t` arrives later than the allowed lateness.
    func isLate(_ t: Int64) -> Bool { watermark != Int64.min && t < watermark - lateness }

    /// Number of open observations.
    var openCount: Int { reports.count - freeSlots.count }

    /// The earliest event time any current or future group can start at: the oldest open observation, or what a
    /// timely observation may still carry (watermark − allowed lateness).
    mutating func earliestOpenTime() -> Int64 {
        while let e = oldest.first,
            Int(e.index) >= slotGeneration.count || slotGeneration[Int(e.index)] != e.generation
        {
            oldest.pop()
        }
        let future = watermark == Int64.min ? Int64.min : watermark - lateness
        guard let e = oldest.first else { return future }
        return min(e.time, future)
    }

    // MARK: Adding

    /// Adds a timely observation; returns its slot.
    mutating func add(_ report: Report, anchor: Bool) -> Int32 {
        let o = report.observation
        let slot: Int32
        let link = Link(report)
        let group = Self.groupOrdinals[o.kind.group]!
        let index = Self.cellIndex(anchor: anchor, link)
        let cell = cellIndexes[index].key(group, o.location.point, report.time)
        if let free = freeSlots.popLast() {
            slot = free
            let s = Int(slot)
            reports[s] = report
            links[s] = link
            kindGroup[s] = group
            isAnchor[s] = anchor
            best[s] = -1
            bestSeparation[s] = 0
            mayBeRival[s] = false
            cellOf[s] = cell
            slotGeneration[s] &+= 1
            arrival[s] = arrivals
            isNamed[s] = false
            hasKey[s] = false
        } else {
            slot = Int32(reports.count)
            reports.append(report)
            links.append(link)
            kindGroup.append(group)
            isAnchor.append(anchor)
            groupOf.append(-1)
            indexInGroup.append(-1)
            best.append(-1)
            bestSeparation.append(0)
            mayBeRival.append(false)
            cellOf.append(cell)
            slotGeneration.append(0)
            arrival.append(arrivals)
            isNamed.append(false)
            keys.append(0)
            hasKey.append(false)
        }
        arrivals += 1
        if keysWanted { computeKey(slot) }
        if anchor {
            var target: Int32 = -1
            for j in anchorNeighbours(of: slot) { target = merge(target, groupOf[Int(j)]) }
            if target < 0 { target = newGroup() }
            insert(slot, into: target)
            var emptied: [Int32] = []
            var unattachedLosing: [Int32] = []
            for j in looseNeighbours(of: slot) {
                let ji = Int(j)
                let d = separation(j, slot)
                if best[ji] < 0 {
                    let g = groupOf[ji]
                    remove(j)
                    best[ji] = slot
                    bestSeparation[ji] = d
                    insert(j, into: groupOf[Int(slot)])
                    if groups[Int(g)].members.isEmpty { emptied.append(g) } else { unattachedLosing.append(g) }
                } else if isBetter(d, slot, than: bestSeparation[ji], best[ji]) {
                    mayBeRival[Int(best[ji])] = true
                    best[ji] = slot
                    bestSeparation[ji] = d
                    let g = groupOf[ji], t = groupOf[Int(slot)]
                    if g != t {
                        remove(j)
                        insert(j, into: t)
                        touch(g)
                    }
                } else {
                    mayBeRival[Int(slot)] = true
                    // A rival in another group: whether it is ambiguous may have changed.
                    if groupOf[ji] != groupOf[Int(slot)] { touch(groupOf[ji]) }
                }
            }
            let home = groupOf[Int(slot)]
            for g in emptied where groups[Int(g)].live {
                transferPublished(from: g, to: home)
                freeGroup(g)
            }
            for g in unattachedLosing where groups[Int(g)].live { splitIfDisconnected(g) }
        } else {
            var found: Int32 = -1
            var foundSeparation = 0.0
            let anchors = anchorNeighbours(of: slot)
            for j in anchors {
                let d = separation(slot, j)
                if found < 0 || isBetter(d, j, than: foundSeparation, found) {
                    found = j
                    foundSeparation = d
                }
            }
            for j in anchors where j != found { mayBeRival[Int(j)] = true }
            if found >= 0 {
                best[Int(slot)] = found
                bestSeparation[Int(slot)] = foundSeparation
                insert(slot, into: groupOf[Int(found)])
            } else {
                var target: Int32 = -1
                for j in looseNeighbours(of: slot) where best[Int(j)] < 0 {
                    target = merge(target, groupOf[Int(j)])
                }
                if target < 0 { target = newGroup() }
                insert(slot, into: target)
            }
        }
        cellIndexes[index].insert(slot, at: cell, uncertainty: link.spatialUncertainty, time: link.timeUncertainty)
        oldest.push(Entry(time: report.time, index: slot, generation: slotGeneration[Int(slot)]))
        if report.time > watermark { watermark = report.time }
        return slot
    }

    /// Whether anchor `a` at separation `d` is a better home than anchor `b` at separation `e`: nearer, then earlier by
    /// (observedAt, id).
    private func isBetter(_ d: Double, _ a: Int32, than e: Double, _ b: Int32) -> Bool {
        if d != e { return d < e }
        return reports[Int(a)].isEarlier(than: reports[Int(b)])
    }

    /// Appends the open observations in `cellIndexes[k]` that observation `i` is linked to (its kind group, close in
    /// distance and time).
    private func neighbours(of i: Int32, in k: Int, into found: inout [Int32]) {
        let s = Int(i)
        let group = kindGroup[s]
        let window = windows[Int(group)]
        let link = links[s]
        let u = link.spatialUncertainty, t = link.timeUncertainty
        // The farthest any member of the index can be and still link, in space and in time.
        let (cu, ct) = (cellIndexes[k].largestUncertainty, cellIndexes[k].largestTimeUncertainty)
        let meters = min(
            window.meters + Self.uncertaintyReach * (u * u + cu * cu).squareRoot(), VerificationPolicy.maximumLinkMeters
        )
        let slack = min(
            Self.uncertaintyReach * (t * t + ct * ct).squareRoot(), VerificationPolicy.maximumTimeSlackSeconds)
        let reach = Self.nanos(window.seconds + slack)
        cellIndexes[k].forEachCandidate(
            group, around: reports[s].observation.location.point, meters: meters,
            from: link.time - reach, to: link.time + reach
        ) { j in
            if j != i && linked(s, Int(j), window) { found.append(j) }
        }
    }

    @inline(__always) private func linked(_ i: Int, _ j: Int, _ window: VerificationPolicy.Window) -> Bool {
        Self.linked(links[i], links[j], window)
    }

    /// The open incident a late report (not added here) describes: the group of the member it links to most closely
    /// (ties to the smaller key), as the key of the group's earliest member, with the separation; `nil` if none.
    func closestOpenIncident(to report: Report) -> (key: UInt64, separation: Double)? {
        let group = Self.groupOrdinals[report.observation.kind.group]!
        let window = windows[Int(group)]
        let link = Link(report)
        var best: (separation: Double, key: UInt64)?
        for k in cellIndexes.indices {
            let (cu, ct) = (cellIndexes[k].largestUncertainty, cellIndexes[k].largestTimeUncertainty)
            let (u, t) = (link.spatialUncertainty, link.timeUncertainty)
            let meters = min(
                window.meters + Self.uncertaintyReach * (u * u + cu * cu).squareRoot(),
                VerificationPolicy.maximumLinkMeters)
            let slack = min(
                Self.uncertaintyReach * (t * t + ct * ct).squareRoot(), VerificationPolicy.maximumTimeSlackSeconds)
            let reach = Self.nanos(window.seconds + slack)
            cellIndexes[k].forEachCandidate(
                group, around: report.observation.location.point, meters: meters, from: link.time - reach,
                to: link.time + reach
            ) { j in
                guard Self.linked(links[Int(j)], link, window) else { return }
                let s = Self.separation(links[Int(j)], link, window)
                guard best == nil || s <= best!.separation else { return }
                let key = unitKey(of: j)
                if best == nil || (s, key) < (best!.separation, best!.key) { best = (s, key) }
            }
        }
        return best.map { ($0.key, $0.separation) }
    }

    /// Whether two observations are close enough in time and space to belong to one incident of a kind group with
    /// this window, allowing for the uncertainty each states.
    @inline(__always) static func linked(_ a: Link, _ b: Link, _ window: VerificationPolicy.Window) -> Bool {
        let ta = a.timeUncertainty, tb = b.timeUncertainty
        let timeSlack = min(
            Self.uncertaintyReach * (ta * ta + tb * tb).squareRoot(), VerificationPolicy.maximumTimeSlackSeconds)
        guard abs(a.time - b.time) <= nanos(window.seconds + timeSlack) else { return false }
        let ua = a.spatialUncertainty, ub = b.spatialUncertainty
        let reach = min(
            window.meters + Self.uncertaintyReach * (ua * ua + ub * ub).squareRoot(),
            VerificationPolicy.maximumLinkMeters)
        return (a.position - b.position).lengthSquared <= reach * reach
    }

    /// How far apart two linked observations are, in units of their link reach and time window (0…2).
    private func separation(_ i: Int32, _ j: Int32) -> Double {
        Self.separation(links[Int(i)], links[Int(j)], windows[Int(kindGroup[Int(i)])])
    }

    /// How far apart two linked observations are, in units of their link reach and time window (0…2), and
    /// ``otherKindPenalty`` more when their kinds differ within the family: what explains a report best.
    static func separation(_ a: Link, _ b: Link, _ window: VerificationPolicy.Window) -> Double {
        let ua = a.spatialUncertainty, ub = b.spatialUncertainty
        let reach = min(
            window.meters + Self.uncertaintyReach * (ua * ua + ub * ub).squareRoot(),
            VerificationPolicy.maximumLinkMeters)
        let ta = a.timeUncertainty, tb = b.timeUncertainty
        let slack = Self.uncertaintyReach * (ta * ta + tb * tb).squareRoot()
        return (a.position - b.position).length / max(reach, 1)
            + Double(abs(a.time - b.time)) / 1e9 / max(window.seconds + slack, 1)
            + (a.kind != b.kind ? otherKindPenalty : 0)
    }

    // MARK: Groups

    private mutating func newGroup() -> Int32 {
        let owner = nextOwner
        nextOwner += 1
        if let g = freeGroups.popLast() {
            let generation = groups[Int(g)].generation &+ 1
            groups[Int(g)] = Group(generation: generation, owner: owner)
            return g
        }
        groups.append(Group(owner: owner))
        return Int32(groups.count - 1)
    }

    private mutating func freeGroup(_ g: Int32) {
        groups[Int(g)].live = false
        groups[Int(g)].members = []
        groups[Int(g)].published = []
        freeGroups.append(g)
    }

    /// Marks a group changed.
    private mutating func touch(_ g: Int32) {
        guard !groups[Int(g)].dirty else { return }
        groups[Int(g)].dirty = true
        dirty.append(g)
    }

    private mutating func insert(_ slot: Int32, into g: Int32) {
        let s = Int(slot)
        groupOf[s] = g
        indexInGroup[s] = Int32(groups[Int(g)].members.count)
        groups[Int(g)].members.append(slot)
        if isNamed[s] { groups[Int(g)].named += 1 }
        let t = reports[s].time
        if t > groups[Int(g)].newest {
            groups[Int(g)].newest = t
            sealQueue.push(Entry(time: t, index: g, generation: groups[Int(g)].generation))
        }
        touch(g)
    }

    /// Takes a slot out of its group (the group's newest time may stay higher: sealing is only later, never wrong).
    private mutating func remove(_ slot: Int32) {
        let s = Int(slot)
        let g = Int(groupOf[s])
        let index = Int(indexInGroup[s])
        let last = groups[g].members.removeLast()
        if last != slot {
            groups[g].members[index] = last
            indexInGroup[Int(last)] = Int32(index)
        }
        if isNamed[s] { groups[g].named -= 1 }
        touch(Int32(g))
    }

    /// Joins group `b` into `a` (or returns `b` when `a` is -1); the larger absorbs the smaller.
    private mutating func merge(_ a: Int32, _ b: Int32) -> Int32 {
        guard a >= 0 else { return b }
        guard a != b else { return a }
        let (big, small) = groups[Int(a)].members.count >= groups[Int(b)].members.count ? (a, b) : (b, a)
        for slot in groups[Int(small)].members { insert(slot, into: big) }
        transferPublished(from: small, to: big)
        freeGroup(small)
        return big
    }

    /// Hands what one group published to another, which will keep it or take it back when next built.
    private mutating func transferPublished(from g: Int32, to h: Int32) {
        let ids = groups[Int(g)].published
        guard !ids.isEmpty else { return }
        groups[Int(h)].published += ids
        for id in ids { transfers.append((id, groups[Int(h)].owner)) }
    }

    /// Published ids handed from one group to another since ``takeTransfers()``, with the new owner.
    private var transfers: [(id: String, owner: UInt64)] = []

    mutating func takeTransfers() -> [(id: String, owner: UInt64)] {
        defer { transfers.removeAll() }
        return transfers
    }

    /// After an unattached observation joined an anchor, the rest of its group may fall apart: each connected part
    /// becomes a group of its own.
    private mutating func splitIfDisconnected(_ g: Int32) {
        let members = groups[Int(g)].members
        guard members.count > 1 else { return }
        var component: [Int32: Int] = [:]
        var parts: [[Int32]] = []
        for seed in members where component[seed] == nil {
            var part: [Int32] = [seed]
            component[seed] = parts.count
            var k = 0
            while k < part.count {
                let x = part[k]
                k += 1
                for y in looseNeighbours(of: x) where groupOf[Int(y)] == g && component[y] == nil {
                    component[y] = parts.count
                    part.append(y)
                }
            }
            parts.append(part)
        }
        guard parts.count > 1 else { return }
        for part in parts.dropFirst() {
            let h = newGroup()
            for slot in part {
                remove(slot)
                insert(slot, into: h)
            }
        }
    }

    // MARK: Reading and sealing

    /// The groups changed since the last call (live ones only), and clears their marks.
    mutating func takeDirty() -> [Int32] {
        let list = dirty.filter { groups[Int($0)].live }
        for g in dirty { groups[Int(g)].dirty = false }
        dirty.removeAll(keepingCapacity: true)
        return list
    }

    /// A group's members, sorted by (observedAt, id).
    func members(of g: Int32) -> [Report] {
        groups[Int(g)].members.map { reports[Int($0)] }.sorted { $0.isEarlier(than: $1) }
    }

    /// The slots of a group's members.
    func slots(of g: Int32) -> [Int32] { groups[Int(g)].members }

    /// What a group is built as: its members, less those it explains no better than another group does, each sorted
    /// by (observedAt, id); then each of those alone, marked with the two anchors that explain it (``ambiguity(of:)``).
    func units(of g: Int32) -> [[Report]] {
        var ambiguous: [Int32: [String]] = [:]
        for slot in groups[Int(g)].members where !isAnchor[Int(slot)] && best[Int(slot)] >= 0 {
            if let between = ambiguity(of: slot) { ambiguous[slot] = between }
        }
        guard !ambiguous.isEmpty else { return [members(of: g)] }
        var kept: [Report] = []
        var alone: [Report] = []
        for slot in groups[Int(g)].members {
            if let between = ambiguous[slot] {
                var report = reports[Int(slot)]
                report.ambiguousBetween = between
                alone.append(report)
            } else {
                kept.append(reports[Int(slot)])
            }
        }
        kept.sort { $0.isEarlier(than: $1) }
        alone.sort { $0.isEarlier(than: $1) }
        return [kept] + alone.map { [$0] }
    }

    /// For an attached imprecise observation: the ids of its anchor and of its nearest anchor in another group (open,
    /// or sealed while it was open) when their separations differ by less than ``ambiguityMargin``; else `nil`.
    func ambiguity(of slot: Int32) -> [String]? {
        let s = Int(slot)
        var rival = sealedRivals[slot]
        for k in anchorNeighbours(of: slot) where groupOf[Int(k)] != groupOf[s] {
            let anchor = reports[Int(k)]
            let candidate = Rival(
                separation: separation(slot, k), anchorId: anchor.observation.id, anchorTime: anchor.time)
            if rival == nil || candidate.isBetter(than: rival!) { rival = candidate }
        }
        guard let rival, rival.separation - bestSeparation[s] < Self.ambiguityMargin else { return nil }
        return [reports[Int(best[s])].observation.id, rival.anchorId]
    }

    /// The incident key of the unit (``units(of:)``) an open observation is built in: its own when it is ambiguous.
    func unitKey(of slot: Int32) -> UInt64 {
        let s = Int(slot)
        if !isAnchor[s] && best[s] >= 0 && ambiguity(of: slot) != nil {
            return IncidentKey.of(observationId: reports[s].observation.id)
        }
        return IncidentKey.of(observationId: units(of: groupOf[s])[0][0].observation.id)
    }

    /// Restores what a snapshot kept of an open observation's rival in a sealed group.
    mutating func restore(rival: Rival, of slot: Int32) { sealedRivals[slot] = rival }

    /// Groups that no timely observation can change any more (every member older than watermark − horizon).
    mutating func sealable() -> [Int32] {
        guard watermark != Int64.min else { return [] }
        let limit = watermark - horizon
        var found: [Int32] = []
        while let e = sealQueue.first, e.time < limit {
            sealQueue.pop()
            let g = groups[Int(e.index)]
            guard g.live, g.generation == e.generation, g.newest == e.time, !g.members.isEmpty else { continue }
            found.append(e.index)
        }
        return found
    }

    /// Every live group (the end of a replay seals them all).
    func liveGroups() -> [Int32] {
        groups.indices.filter { groups[$0].live && !groups[$0].members.isEmpty }.map(Int32.init)
    }

    /// Takes a group out: its members sorted, and its group record; the slots are freed. Imprecise observations of
    /// other groups its anchors link to remember the nearest as a rival.
    mutating func take(_ g: Int32) -> (members: [Report], group: Group) {
        let members = self.members(of: g)
        let group = groups[Int(g)]
        for slot in group.members where mayBeRival[Int(slot)] {
            let anchor = reports[Int(slot)]
            for j in looseNeighbours(of: slot) where groupOf[Int(j)] != g && best[Int(j)] >= 0 {
                let rival = Rival(
                    separation: separation(j, slot), anchorId: anchor.observation.id, anchorTime: anchor.time)
                if let known = sealedRivals[j], !rival.isBetter(than: known) { continue }
                sealedRivals[j] = rival
            }
        }
        for slot in group.members {
            let s = Int(slot)
            if !isAnchor[s] { sealedRivals[slot] = nil }
            cellIndexes[Self.cellIndex(anchor: isAnchor[s], links[s])].remove(slot, at: cellOf[s])
            if hasKey[s] { slotOfKey[keys[s]] = nil }
            slotGeneration[s] &+= 1
            reports[s] = Self.vacant
            freeSlots.append(slot)
        }
        groups[Int(g)].members = []
        freeGroup(g)
        return (members, group)
    }

    private static let vacant = Report(
        observation: Observation(
            id: "", source: "", observedAt: Timestamp(nanoseconds: 0), kind: .explosion,
            location: Location(point: GeoPoint(lon: 0, lat: 0), uncertaintyMeters: 0)),
        position: Vector3(x: 0, y: 0, z: 0), time: 0, late: false,
        classification: Classification(party: 0, distanceToLineMeters: 0, alongLineMeters: 0, zones: 0, sector: -1),
        timeUncertainty: 0)

    /// Records what a group has published (after it was built).
    mutating func setPublished(_ g: Int32, _ ids: [String]) { groups[Int(g)].published = ids }

    /// The open observations in the order they arrived.
    func openReportsInArrivalOrder() -> [Report] {
        var slots: [Int32] = []
        for g in groups where g.live { slots += g.members }
        return slots.sorted { arrival[Int($0)] < arrival[Int($1)] }.map { reports[Int($0)] }
    }

    /// A timely observation arrived that is not held here (another partition's): the watermark moves.
    mutating func noteTimely(_ t: Int64) {
        if t > watermark { watermark = t }
    }

    /// Sets the watermark (restoring a snapshot, after its open observations were added again).
    mutating func restore(watermark: Int64) {
        self.watermark = watermark
    }

    // MARK: Keys and names

    /// From now on every open observation's incident key is known (review actions need them).
    mutating func wantKeys() {
        guard !keysWanted else { return }
        keysWanted = true
        for g in groups where g.live { for slot in g.members { computeKey(slot) } }
    }

    private mutating func computeKey(_ slot: Int32) {
        let s = Int(slot)
        guard !hasKey[s] else { return }
        keys[s] = IncidentKey.of(observationId: reports[s].observation.id)
        hasKey[s] = true
        slotOfKey[keys[s]] = slot
    }

    /// Marks an open observation as named by a review action.
    mutating func name(_ slot: Int32) {
        let s = Int(slot)
        guard !isNamed[s] else { return }
        isNamed[s] = true
        groups[Int(groupOf[s])].named += 1
        touch(groupOf[s])
    }

    /// The open observation with this id, if any (a linear search: only for names given in a split).
    func slot(ofObservation id: String) -> Int32? {
        for g in groups where g.live {
            for slot in g.members where reports[Int(slot)].observation.id == id { return slot }
        }
        return nil
    }

    // MARK: Cells

    /// Observations by kind group, cell of `degrees` of longitude and latitude, and span of `seconds` of event time;
    /// with the largest stated uncertainties among them, which bound how far a search must look.
    struct CellIndex: Sendable {
        let degrees: Double
        let span: Int64
        private(set) var cells = CellTable()
        private(set) var largestUncertainty = 0.0
        private(set) var largestTimeUncertainty = 0.0

        init(degrees: Double, seconds: Int64) {
            self.degrees = degrees
            span = seconds * 1_000_000_000
        }

        func key(_ group: UInt8, _ p: GeoPoint, _ time: Int64) -> Int64 {
            Self.key(group, Int((p.lon / degrees).rounded(.down)), Int((p.lat / degrees).rounded(.down)), spanOf(time))
        }

        private static func key(_ group: UInt8, _ x: Int, _ y: Int, _ span: Int64) -> Int64 {
            Int64(group) << 60 | Int64(x & 0xFFFF) << 44 | Int64(y & 0xFFFF) << 28 | (span & 0xFFFFFFF)
        }

        /// The number of the span of time that holds `t` (rounded down, also before 1970).
        private func spanOf(_ t: Int64) -> Int64 { t >= 0 ? t / span : (t - span + 1) / span }

        mutating func insert(_ slot: Int32, at key: Int64, uncertainty: Double, time: Double) {
            cells.append(slot, to: key)
            largestUncertainty = max(largestUncertainty, uncertainty)
            largestTimeUncertainty = max(largestTimeUncertainty, time)
        }

        mutating func remove(_ slot: Int32, at key: Int64) { cells.remove(slot, from: key) }

        /// Every observation of `group` in the cells within `meters` of `p` and the spans from `from` to `to`
        /// (a superset of those that close; the caller tests each).
        func forEachCandidate(
            _ group: UInt8, around p: GeoPoint, meters: Double, from: Int64, to: Int64, _ body: (Int32) -> Void
        ) {
            guard !cells.isEmpty else { return }
            // Degrees of latitude are at least 110.5 km, of longitude 111.3 km × cos(latitude): smaller figures
            // make the search wider, never narrower.
            let dLat = meters / 110_000
            let cosine = cos(min(abs(p.lat) + dLat + degrees, 89.9) * .pi / 180)
            let dLon = meters / (111_000 * cosine)
            let x0 = Int(((p.lon - dLon) / degrees).rounded(.down)), x1 = Int(((p.lon + dLon) / degrees).rounded(.down))
            let y0 = Int(((p.lat - dLat) / degrees).rounded(.down)), y1 = Int(((p.lat + dLat) / degrees).rounded(.down))
            for n in spanOf(from)...spanOf(to) {
                for y in y0...y1 {
                    for x in x0...x1 {
                        guard let members = cells.slots(Self.key(group, x, y, n)) else { continue }
                        for j in members { body(j) }
                    }
                }
            }
        }
    }
}
