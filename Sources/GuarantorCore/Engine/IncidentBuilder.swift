import Foundation

/// An incident with the findings it makes: the unit in which the engine publishes results.
public struct IncidentRecord: Sendable, Equatable {
    public var incident: Incident
    /// Its violations, by id.
    public var findings: [Violation]
    /// What it adds to the count of impediments (access denials, restrictions of movement, sensor gaps), if it is one.
    public var impediment: ImpedimentCount?
    /// Its observations marked AMBER or above, which not every member may read (every other one every member may).
    public var markings: [Marking] = []
    /// Whether every one of its observations is marked TLP:CLEAR: only then does the public view show it.
    public var isPublic = false
}

/// How an observation is marked when not every member may read it (TLP AMBER and above): what decides who may.
public struct Marking: Sendable, Equatable {
    public var observationId: String
    public var tlp: TLP
    public var originator: String?
    public var recipients: [String]

    public init(observationId: String, tlp: TLP, originator: String?, recipients: [String]) {
        self.observationId = observationId
        self.tlp = tlp
        self.originator = originator
        self.recipients = recipients
    }

    /// Whether a user of `member` may read the observation.
    public func isReadable(by member: String) -> Bool {
        Releasability.canRead(member: member, tlp: tlp, originator: originator, recipients: recipients)
    }
}

/// What people decided about a group of observations, applied when its incident is built.
struct ReviewState: Sendable {
    /// The status an analyst set, which automatic grading no longer changes.
    var status: IncidentStatus?
    /// The action that set `status`.
    var statusChange: ReviewAction?
    /// The last action that changed the incident (status, merge or split).
    var lastReview: ReviewAction?
}

/// Builds incidents and findings from groups of reports: grading, fusion, adjudication against the agreement's rules,
/// reconciliation with the declarations, and attribution. Pure functions of the members and the mission.
public struct IncidentBuilder: Sendable {
    let mission: Mission
    let policy: VerificationPolicy
    private static let kinds = ObservationKind.allCases
    private static let weapons = WeaponClass.allCases

    public init(mission: Mission) {
        self.mission = mission
        policy = mission.agreement.verification
    }

    /// The incident, its findings and its impediment count, for members sorted by (observedAt, id).
    func record(_ members: [Report], review: ReviewState? = nil) -> IncidentRecord {
        var incident = self.incident(members)
        if let review {
            if let status = review.status {
                incident.status = status
                incident.verifiedAt = status == .verified ? review.statusChange?.at : nil
                if status == .verified && incident.credibleAt == nil { incident.credibleAt = review.statusChange?.at }
            }
            incident.lastReview = review.lastReview
        }
        var findings = adjudicate(incident, members)
        if findings.count > 1 { findings.sort { $0.id < $1.id } }
        let impediment = impedimentCount(incident, members)
        var markings: [Marking] = []
        for m in members {
            let o = m.observation
            guard let tlp = o.tlp, Releasability.isRestricted(o) else { continue }
            markings.append(
                Marking(observationId: o.id, tlp: tlp, originator: o.originator, recipients: o.recipients))
        }
        return IncidentRecord(
            incident: incident, findings: findings, impediment: impediment, markings: markings,
            isPublic: members.allSatisfy { $0.observation.tlp == .clear })
    }

    /// The incident of a group of reports sorted by (observedAt, id): its id follows from the first one.
    func incident(_ members: [Report]) -> Incident {
        let registry = mission.sources
        let kinds = Self.kinds, weapons = Self.weapons
        // Tallies by kind and weapon class: [all observations | evidence]; a single report needs none.
        let single = members.count == 1
        var kindTally = single ? [] : [Int](repeating: 0, count: kinds.count * 2)
        var weaponTally = single ? [] : [Int](repeating: 0, count: weapons.count * 2)
        var hasKnownNonClaim = false
        var independent: [(organisation: String, kind: SourceKind)] = []
        var verifiedAlone = false
        var bestGrade: Reliability?
        var sourceIds: [String] = []
        var observationIds: [String] = []
        observationIds.reserveCapacity(members.count)
        var start = members[0].observation.observedAt, end = start
        var credibleAt: Timestamp?
        var verifiedAt: Timestamp?
        var reliableSoFar: [(String, SourceKind)] = []
        var count = 0
        var allLate = true
        // Inverse-variance weighted mean of the positions (floor 1 m).
        var sum = Vector3(x: 0, y: 0, z: 0)
        var weights = 0.0
        for m in members {
            let o = m.observation
            observationIds.append(o.id)
            let u = max(o.location.uncertaintyMeters, 1)
            let w = 1 / (u * u)
            sum = sum + m.position * w
            weights += w
            start = min(start, o.observedAt)
            end = max(end, o.observedAt)
            count = max(count, o.count ?? 1)
            allLate = allLate && m.late
            if !sourceIds.contains(o.source) { sourceIds.append(o.source) }
            let source = registry[o.source]
            // Unknown sources (removed from sources.json since) count as evidence but corroborate nothing.
            let isEvidence = source?.kind != .partyClaim
            if !single {
                let k = kinds.firstIndex(of: o.kind)!
                kindTally[k] += 1
                if isEvidence { kindTally[kinds.count + k] += 1 }
                if let w = o.weaponClass.flatMap({ weapons.firstIndex(of: $0) }) {
                    weaponTally[w] += 1
                    if isEvidence { weaponTally[weapons.count + w] += 1 }
                }
            }
            guard let source, source.kind != .partyClaim else { continue }
            hasKnownNonClaim = true
            if !independent.contains(where: { $0.organisation == source.organisation && $0.kind == source.kind }) {
                independent.append((source.organisation, source.kind))
            }
            if policy.verifyAloneGrades.contains(source.reliability) { verifiedAlone = true }
            // Members come in (observedAt, id) order: the first reliable report, and the one that verified.
            if policy.reliableGrades.contains(source.reliability) {
                if credibleAt == nil { credibleAt = o.observedAt }
                if !reliableSoFar.contains(where: { $0.0 == source.organisation && $0.1 == source.kind }) {
                    reliableSoFar.append((source.organisation, source.kind))
                }
            }
            if verifiedAt == nil && (verifiedAlone || reliableSoFar.count >= policy.verifyWith) {
                verifiedAt = o.observedAt
            }
            if bestGrade == nil || source.reliability.rawValue < bestGrade!.rawValue { bestGrade = source.reliability }
        }
        // Reliable independent sources: organisation–kind pairs with at least one source of a reliable grade.
        let reliableCount = reliableSoFar.count
        // Kind and weapon class: the most reported among non-claim observations, ties to the most specific.
        // (A single report's own kind and class, whichever tally would be read.)
        let kindOffset = hasKnownNonClaim ? kinds.count : 0, weaponOffset = hasKnownNonClaim ? weapons.count : 0
        let kind =
            single
            ? members[0].observation.kind
            : VerificationEngine.mostCommon(kindTally[kindOffset..<kindOffset + kinds.count], of: kinds)!
        let weaponClass =
            single
            ? members[0].observation.weaponClass
            : VerificationEngine.mostCommon(weaponTally[weaponOffset..<weaponOffset + weapons.count], of: weapons)
        let fused = WGS84.geodetic(sum * (1 / weights))
        let location = Location(
            point: GeoPoint(lon: (fused.lon * 1e7).rounded() / 1e7, lat: (fused.lat * 1e7).rounded() / 1e7),
            uncertaintyMeters: ((1 / weights).squareRoot() * 10).rounded() / 10)
        let status: IncidentStatus =
            reliableCount >= policy.verifyWith || verifiedAlone
            ? .verified
            : independent.count >= policy.corroborateWith ? .corroborated : .reported
        let credibility: Int =
            switch (status, bestGrade) {
            case (.verified, _): 1
            case (.corroborated, _): 2
            case (_, .a?), (_, .b?): 3
            case (_, .c?), (_, .d?): 4
            case (_, .e?), (_, nil): 5
            case (_, .f?): 6
            }
        // A member's own point (a single report, usually) is classified already.
        let classification =
            members.first {
                $0.observation.location.point.lon.bitPattern == location.point.lon.bitPattern
                    && $0.observation.location.point.lat.bitPattern == location.point.lat.bitPattern
            }?.classification
            ?? mission.classify(location.point)
        var incident = Incident(
            id: IncidentKey.incidentId(IncidentKey.of(observationId: members[0].observation.id)),
            observationIds: observationIds, kind: kind, weaponClass: weaponClass, location: location, start: start,
            end: end, count: count, sources: sourceIds.count > 1 ? sourceIds.sorted() : sourceIds,
            independentSources: independent.count,
            independentReliableSources: reliableCount, credibility: credibility, status: status,
            classification: classification, late: allLate, credibleAt: credibleAt,
            verifiedAt: status == .verified ? verifiedAt : nil)
        if allLate {
            incident.receivedLateAt = Violation.receivedLate(members.map(\.observation))
            incident.joinsIncidentId = members.lazy.compactMap(\.joins).first
        }
        if members.count == 1 { incident.ambiguousBetween = members[0].ambiguousBetween }
        return incident
    }

    /// An impediment incident's count (kind, the party it is attributed to, sector), `nil` for any other incident
    /// or a rejected one.
    func impedimentCount(_ incident: Incident, _ members: [Report]) -> ImpedimentCount? {
        guard incident.kind.group == .impediment && incident.status != .rejected else { return nil }
        let sector = incident.classification.sector
        return ImpedimentCount(
            kind: incident.kind, party: attribute(incident, members).party,
            sector: sector >= 0 ? mission.sectors.names[Int(sector)] : nil, incidents: 1, observations: members.count)
    }

    /// The impediment count a reader's part of an incident makes: the incident built from the observations it may
    /// read (`visible`), with the incident's `status` (`nil` when nothing is visible or it is no impediment).
    public func impediment(ofVisible visible: [Observation], status: IncidentStatus, late: Bool) -> ImpedimentCount? {
        guard !visible.isEmpty else { return nil }
        let reports = self.reports(visible, late: late)
        var part = incident(reports)
        part.status = status
        return impedimentCount(part, reports)
    }

    /// Observations read back as an incident's reports, in (observedAt, id) order.
    private func reports(_ observations: [Observation], late: Bool) -> [Report] {
        observations.map { mission.report($0, late: late) }.sorted { $0.isEarlier(than: $1) }
    }

    /// What a reader may see of an incident: the incident itself when every member is readable; when only some are,
    /// an incident of the same id, kind and status rebuilt from those alone (location, time span, count, sources);
    /// `nil` when none is. Nothing derived from an unreadable observation is shown.
    public func visiblePart(of incident: Incident, members: [Observation], readable: (Observation) -> Bool)
        -> Incident?
    {
        let visible = members.filter(readable)
        if visible.count == members.count { return incident }
        if visible.isEmpty { return nil }
        let reports = self.reports(visible, late: incident.late)
        var part = self.incident(reports)
        part.id = incident.id
        part.status = incident.status
        part.verifiedAt = incident.verifiedAt
        part.credibility = incident.credibility
        part.joinsIncidentId = incident.joinsIncidentId
        part.ambiguousBetween = incident.ambiguousBetween
        return part
    }

    // MARK: Adjudication

    /// The violations an incident makes under the agreement's rules, with their attribution.
    func adjudicate(_ incident: Incident, _ members: [Report]) -> [Violation] {
        let agreement = mission.agreement
        guard incident.status != .rejected, incident.start >= agreement.effectiveAt else { return [] }
        // A late report is adjudicated too; its findings say so, and count from when it was received.
        let receivedLateAt = incident.receivedLateAt
        var found: [Violation] = []
        var attribution: Attribution?
        for rule in agreement.rules where rule.kinds.contains(incident.kind) {
            if !rule.weaponClasses.isEmpty {
                guard let weapon = incident.weaponClass, rule.weaponClasses.contains(weapon) else { continue }
            }
            let zoneIndex: Int?
            switch rule.zone {
            case nil: zoneIndex = nil
            case .named(let id): zoneIndex = agreement.zones.firstIndex { $0.id == id }
            case .ofWeaponClass:
                guard let weapon = incident.weaponClass,
                    let index = agreement.zones.firstIndex(where: { $0.prohibitedWeaponClasses.contains(weapon) })
                else { continue }
                zoneIndex = index
            }
            var probability = 1.0
            if let zoneIndex {
                probability = VerificationEngine.probabilityInside(
                    distance: incident.classification.distanceToLineMeters,
                    uncertainty: incident.location.uncertaintyMeters,
                    halfWidth: agreement.zones[zoneIndex].halfWidthMeters)
                guard probability >= 0.5 else { continue }
            }
            let zone =
                zoneIndex.map { agreement.zones[$0].id }
                ?? mission.zoneIds(incident.classification.zones).first
            if attribution == nil { attribution = attribute(incident, members) }
            found.append(
                Violation(
                    id: "V" + incident.id.dropFirst() + "-" + rule.id, incidentId: incident.id, rule: rule.id,
                    severity: rule.severity, attributedTo: attribution!.party, attributionBasis: attribution!.basis,
                    zone: zone, distanceToLineMeters: incident.classification.distanceToLineMeters, at: incident.start,
                    probability: (probability * 1000).rounded() / 1000, incidentStatus: incident.status,
                    sector: sectorName(incident), verifiedAt: incident.verifiedAt,
                    attributionProbability: attribution!.probability))
        }
        if let finding = reconcileWithDeclarations(incident, alreadyFound: !found.isEmpty) { found.append(finding) }
        if let receivedLateAt {
            for i in found.indices {
                found[i].receivedLateAt = max(receivedLateAt, found[i].at)
                found[i].joinsIncidentId = incident.joinsIncidentId
            }
        }
        return found
    }

    /// Declarations broken: a heavy weapon beyond its zone yet away from every declared site and route of its party
    /// (`awayFromDeclaredSite`), or an inspection counting fewer weapons than a site declared
    /// (`missingFromDeclaredSite`). Parties that declared nothing are reported once, by ``undeclaredParties()``.
    func reconcileWithDeclarations(_ incident: Incident, alreadyFound: Bool) -> Violation? {
        let declarations = mission.declarations
        let parties = mission.agreement.parties
        let c = incident.classification
        let u = incident.location.uncertaintyMeters
        func finding(_ rule: String, party: String, detail: String) -> Violation {
            Violation(
                id: "V" + incident.id.dropFirst() + "-" + rule, incidentId: incident.id, rule: rule, severity: .serious,
                attributedTo: party, attributionBasis: "declarations", zone: nil,
                distanceToLineMeters: c.distanceToLineMeters, at: incident.start, probability: 1,
                incidentStatus: incident.status, sector: sectorName(incident), verifiedAt: incident.verifiedAt,
                detail: detail, attributionProbability: 1)
        }
        guard let weapon = incident.weaponClass else { return nil }
        switch incident.kind {
        case .siteInspection:
            for party in parties {
                guard let site = declarations.site(of: party.id, containing: incident.location.point, uncertainty: 0)
                else { continue }
                let declared = site.holdings[weapon] ?? 0
                guard incident.count < declared else { return nil }
                return finding(
                    "missingFromDeclaredSite", party: party.id,
                    detail: "\(site.id): declared \(declared) \(weapon.rawValue), counted \(incident.count)")
            }
            return nil
        case .heavyWeaponSighting, .armourMovement:
            let party = parties[c.party].id
            guard !alreadyFound, declarations.byParty[party] != nil, c.distanceToLineMeters > u,
                mission.agreement.zones.contains(where: { $0.prohibitedWeaponClasses.contains(weapon) }),
                declarations.site(of: party, containing: incident.location.point, uncertainty: u) == nil,
                !declarations.onRoute(of: party, incident.location.point, uncertainty: u)
            else { return nil }
            return finding(
                "awayFromDeclaredSite", party: party,
                detail: "\(weapon.rawValue) away from every declared storage site and withdrawal route of \(party)")
        default:
            return nil
        }
    }

    /// One finding per party that declared nothing, at the agreement's effective time.
    func undeclaredParties() -> [Violation] {
        let agreement = mission.agreement
        return agreement.parties.filter { mission.declarations.byParty[$0.id] == nil }.map { party in
            Violation(
                id: "V-noDeclaration-" + party.id, incidentId: "", rule: "noDeclaration", severity: .serious,
                attributedTo: party.id, attributionBasis: "declarations", zone: nil, distanceToLineMeters: 0,
                at: agreement.effectiveAt, probability: 1, incidentStatus: .verified,
                verifiedAt: agreement.effectiveAt,
                detail: "\(party.name) declared no heavy-weapon inventory, storage sites or withdrawal routes",
                attributionProbability: 1)
        }
    }

    func sectorName(_ incident: Incident) -> String? {
        incident.classification.sector >= 0 ? mission.sectors.names[Int(incident.classification.sector)] : nil
    }

    /// To whom a happening is attributed, on what basis, and how sure: ``Violation/attributionProbability``.
    struct Attribution {
        var party: String
        var basis: String
        var probability: Double?
    }

    /// To a party when the evidence puts the happening's origin on its side with at least the policy's
    /// `attributionThreshold` (default 0.95); otherwise `unattributed`, with the probability shown. The evidence, in
    /// order: points of origin the reports state (one estimate per source, then fused across sources by their
    /// uncertainties), bearings from two or more places that cross at a clear angle, or where a sighting stands.
    /// For fire, where it landed is weighed as a prior (``VerificationPolicy/crossLinePrior``): fire that lands on one
    /// side mostly comes from the other, yet an origin estimate on the impact's own side can outweigh it; where fire
    /// lands never attributes it alone.
    func attribute(_ incident: Incident, _ members: [Report]) -> Attribution {
        let parties = mission.agreement.parties
        let policy = mission.agreement.verification
        func weighed(_ point: GeoPoint, uncertainty: Double, basis: String, tooNear: String) -> Attribution {
            let c = mission.classify(point)
            var p = VerificationEngine.sideProbability(distance: c.distanceToLineMeters, uncertainty: uncertainty)
            if incident.kind.group == .fire {
                // Where fire landed weighs too: it mostly crosses the line.
                let impact = incident.classification
                let s = VerificationEngine.sideProbability(
                    distance: impact.distanceToLineMeters, uncertainty: incident.location.uncertaintyMeters)
                let q = policy.crossLinePrior
                let prior = impact.party == c.party ? q * (1 - s) + (1 - q) * s : q * s + (1 - q) * (1 - s)
                p = p * prior / max(p * prior + (1 - p) * (1 - prior), .leastNormalMagnitude)
            }
            let (side, probability) = p >= 0.5 ? (c.party, p) : (1 - c.party, 1 - p)
            let shown = (probability * 10_000).rounded() / 10_000
            // Decided on the figure shown, so that no finding reads 0.95 and stays unattributed.
            return shown >= policy.attributionThreshold
                ? Attribution(party: parties[side].id, basis: basis, probability: shown)
                : Attribution(party: "unattributed", basis: tooNear, probability: shown)
        }
        // 1. Stated origins: one estimate per source (its reports are not independent of each other), then fused.
        var bySource: [String: [(Vector3, Double)]] = [:]
        var sourceOrder: [String] = []
        for m in members {
            guard let o = m.observation.origin else { continue }
            if bySource[m.observation.source] == nil { sourceOrder.append(m.observation.source) }
            bySource[m.observation.source, default: []].append((WGS84.ecef(o.point), o.uncertaintyMeters))
        }
        if !sourceOrder.isEmpty {
            let estimates = sourceOrder.map { id in
                let own = bySource[id]!
                let mean = VerificationEngine.fuse(own)
                return (WGS84.ecef(mean.point), own.map(\.1).min()!)
            }
            let origin = VerificationEngine.fuse(estimates)
            return weighed(
                origin.point, uncertainty: origin.uncertaintyMeters, basis: "origin",
                tooNear: "origin too near the line")
        }
        // 2. Two or more bearings that cross at a clear angle.
        var bearings: [(GeoPoint, Double)] = []
        var observerUncertainty = 0.0
        for m in members {
            guard let b = m.observation.bearingDegrees else { continue }
            bearings.append((m.observation.location.point, b))
            observerUncertainty += m.observation.location.uncertaintyMeters * m.observation.location.uncertaintyMeters
        }
        if bearings.count >= 2, let origin = VerificationEngine.intersect(bearings) {
            let range = bearings.map { WGS84.distance($0.0, origin) }.reduce(0, +) / Double(bearings.count)
            let spread = range * tan(VerificationEngine.bearingUncertaintyDegrees * .pi / 180)
            let uncertainty = (observerUncertainty / Double(bearings.count) + spread * spread).squareRoot()
            return weighed(origin, uncertainty: uncertainty, basis: "bearings", tooNear: "bearings cross near the line")
        }
        // 3. A sighting stands on its party's side; so does a checkpoint that turns monitors back.
        if [.heavyWeapons, .troops].contains(incident.kind.group)
            || [.accessDenial, .restrictionOfMovement].contains(incident.kind)
        {
            return weighed(
                incident.location.point, uncertainty: incident.location.uncertaintyMeters, basis: "side",
                tooNear: "sighting too near the line")
        }
        return Attribution(party: "unattributed", basis: "none", probability: nil)
    }
}
