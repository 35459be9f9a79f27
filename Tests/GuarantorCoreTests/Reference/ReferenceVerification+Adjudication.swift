// The batch engine as it was before the incremental one: kept in the tests as the specification the incremental
// engine is compared with (property tests), never used by the product.
import Foundation

@testable import GuarantorCore

extension ReferenceVerification {
    /// The violations an incident makes under the agreement's rules, with their attribution.
    func adjudicate(_ incident: Incident, members: [Int]) -> [Violation] {
        let agreement = mission.agreement
        guard incident.status != .rejected, incident.start >= agreement.effectiveAt else { return [] }
        let receivedLateAt = incident.late ? Violation.receivedLate(members.map { observations[$0] }) : nil
        var found: [Violation] = []
        var attribution: (party: String, basis: String, probability: Double?)?
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
                probability = Self.probabilityInside(
                    distance: incident.classification.distanceToLineMeters,
                    uncertainty: incident.location.uncertaintyMeters,
                    halfWidth: agreement.zones[zoneIndex].halfWidthMeters)
                guard probability >= 0.5 else { continue }
            }
            let zone =
                zoneIndex.map { agreement.zones[$0].id }
                ?? mission.zoneIds(incident.classification.zones).first
            if attribution == nil { attribution = attribute(incident, members: members) }
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

    /// P(distance ≤ halfWidth) when the stated uncertainty is a 95 % radius (≈ 2σ) across the line.
    static func probabilityInside(distance: Double, uncertainty: Double, halfWidth: Double) -> Double {
        let sigma = max(uncertainty, 1) / 2
        return 0.5 * erfc(-(halfWidth - distance) / (sigma * 2.0.squareRoot()))
    }

    /// To a party when the evidence puts the origin on its side with probability ≥ the policy's threshold: stated
    /// origins (per source the inverse-variance mean at that source's best uncertainty, then fused across sources),
    /// else two or more crossing bearings (uncertainty: the observers' and 10° at the mean range), else a sighting's
    /// own side. The probability is Φ(2d/u) for an estimate d metres from the line with 95 % radius u.
    func attribute(_ incident: Incident, members: [Int]) -> (party: String, basis: String, probability: Double?) {
        let parties = mission.agreement.parties
        let threshold = mission.agreement.verification.attributionThreshold
        func side(_ distance: Double, _ u: Double) -> Double {
            0.5 * erfc(-distance / (max(u, 1) / 2 * 2.0.squareRoot()))
        }
        func weighed(_ p: GeoPoint, _ u: Double, _ basis: String, _ tooNear: String) -> (String, String, Double?) {
            let c = mission.classify(p)
            // The estimate's side, weighed (for fire) with the prior from where it landed, by Bayes' rule.
            var pe = side(c.distanceToLineMeters, u)
            if incident.kind.group == .fire {
                let landed = side(incident.classification.distanceToLineMeters, incident.location.uncertaintyMeters)
                let q = mission.agreement.verification.crossLinePrior
                let prior =
                    incident.classification.party == c.party
                    ? q * (1 - landed) + (1 - q) * landed : q * landed + (1 - q) * (1 - landed)
                pe = pe * prior / max(pe * prior + (1 - pe) * (1 - prior), .leastNormalMagnitude)
            }
            let (party, probability) = pe >= 0.5 ? (c.party, pe) : (1 - c.party, 1 - pe)
            let shown = (probability * 10_000).rounded() / 10_000
            return shown >= threshold ? (parties[party].id, basis, shown) : ("unattributed", tooNear, shown)
        }
        let observed = members.map { observation(at: $0) }
        var perSource: [(String, [Location])] = []
        for o in observed {
            guard let origin = o.origin else { continue }
            if let k = perSource.firstIndex(where: { $0.0 == o.source }) {
                perSource[k].1.append(origin)
            } else {
                perSource.append((o.source, [origin]))
            }
        }
        if !perSource.isEmpty {
            let estimates = perSource.map { _, origins -> (Vector3, Double) in
                let mean = Self.fuse(origins.map { (WGS84.ecef($0.point), $0.uncertaintyMeters) })
                return (WGS84.ecef(mean.point), origins.map(\.uncertaintyMeters).min()!)
            }
            let origin = Self.fuse(estimates)
            return weighed(origin.point, origin.uncertaintyMeters, "origin", "origin too near the line")
        }
        let bearings = observed.filter { $0.bearingDegrees != nil }
        if bearings.count >= 2, let origin = Self.intersect(bearings.map { ($0.location.point, $0.bearingDegrees!) }) {
            let n = Double(bearings.count)
            let range = bearings.map { WGS84.distance($0.location.point, origin) }.reduce(0, +) / n
            let own = bearings.map { $0.location.uncertaintyMeters * $0.location.uncertaintyMeters }.reduce(0, +) / n
            let spread = range * tan(10 * .pi / 180)
            let u = (own + spread * spread).squareRoot()
            return weighed(origin, u, "bearings", "bearings cross near the line")
        }
        if [.heavyWeapons, .troops].contains(incident.kind.group)
            || [.accessDenial, .restrictionOfMovement].contains(incident.kind)
        {
            return weighed(
                incident.location.point, incident.location.uncertaintyMeters, "side", "sighting too near the line")
        }
        return ("unattributed", "none", nil)
    }

    /// Least-squares crossing of bearing lines in a local plane, if at least two differ by 15° or more.
    static func intersect(_ rays: [(GeoPoint, Double)]) -> GeoPoint? {
        let angles = rays.map(\.1)
        guard
            angles.contains(where: { a in
                angles.contains { b in
                    let d = abs((a - b).truncatingRemainder(dividingBy: 180))
                    return min(d, 180 - d) >= 15
                }
            })
        else { return nil }
        let origin = rays[0].0
        let kx = 111_320 * cos(origin.lat * .pi / 180), ky = 110_574.0
        // Minimise the sum of squared distances to the lines through (x, y) with direction (sin θ, cos θ).
        var a11 = 0.0, a12 = 0.0, a22 = 0.0, b1 = 0.0, b2 = 0.0
        for (p, bearing) in rays {
            let x = (p.lon - origin.lon) * kx, y = (p.lat - origin.lat) * ky
            let dx = sin(bearing * .pi / 180), dy = cos(bearing * .pi / 180)
            // Projector onto the line's normal: I − d dᵀ.
            let m11 = 1 - dx * dx, m12 = -dx * dy, m22 = 1 - dy * dy
            a11 += m11; a12 += m12; a22 += m22
            b1 += m11 * x + m12 * y; b2 += m12 * x + m22 * y
        }
        let det = a11 * a22 - a12 * a12
        guard abs(det) > 1e-9 else { return nil }
        let x = (a22 * b1 - a12 * b2) / det, y = (a11 * b2 - a12 * b1) / det
        // The crossing must lie ahead of every observer, not behind.
        for (p, bearing) in rays {
            let px = (p.lon - origin.lon) * kx, py = (p.lat - origin.lat) * ky
            if (x - px) * sin(bearing * .pi / 180) + (y - py) * cos(bearing * .pi / 180) <= 0 { return nil }
        }
        return GeoPoint(lon: origin.lon + x / kx, lat: origin.lat + y / ky)
    }
}
