import Foundation

/// Generates a scenario along a mission's line: ground-truth events and what the mission's sources report of them,
/// with per-kind location and time error, misses, duplicates and false reports. Reproducible from a seed.
///
/// Every figure of the noise model is in ``SensorModel`` and ``Noise``; docs/VERIFICATION.md lists them.
public struct Simulator {
    /// What one kind of source sees of one kind of event.
    public struct SensorModel: Sendable {
        /// Probability of reporting the event at all.
        var detection: Double
        /// Location error (σ, metres) and time error (σ, seconds).
        var locationSigma: Double
        var timeSigma: Double
        /// Error of the estimated origin when the source reports one (σ, metres); `nil` when it does not.
        var originSigma: Double?
        /// Error of a bearing towards the origin (σ, degrees), when the source gives one instead.
        var bearingSigma: Double?
    }

    /// How noisy the reports are.
    public enum Noise: String, Sendable, CaseIterable {
        /// The model below as it stands: every report states its time and location uncertainty honestly.
        case standard
        /// Open sources and party claims 10–30 minutes off without saying so, and typically 2–5 km off (σ 1.6–4 km,
        /// stated as 2σ); one patrol report in ten filed 6½–12 hours late (beyond the allowed lateness); acoustic
        /// arrays estimate the origin of small-arms fire too.
        case realistic
        /// Realistic with every error doubled (stated uncertainties doubled with them), and fabricated reports from open
        /// sources and party claims making up a fifth of all reports.
        case harsh
    }

    /// Kinds of ground-truth event.
    public enum EventKind: String, Sendable, CaseIterable {
        case barrage, smallArms, heavyWeapon, incursion, drone
        /// Rockets on a protected site (a deployment site or hub of coalition.json): the tripwire.
        case siteStrike
    }

    /// A ground-truth event, kept to work out when the triggers' conditions truly became true.
    struct TruthEvent {
        var id: String
        var kind: EventKind
        var observedKind: ObservationKind
        var at: Timestamp
        var location: GeoPoint
        var party: String
        var violations: [String]
    }

    let mission: Mission
    var rng: SplitMix64
    let start: Timestamp
    let hours: Double
    /// How many times as frequent as usual events and false reports are.
    var intensity = 1.0
    var noise = Noise.standard
    var observations: [Observation] = []
    var truth = JSONWriter()
    var nextObservation = 0
    var nextEvent = 0
    var events: [TruthEvent] = []
    var deliveries: [GuaranteeAction] = []

    /// The default noise model: acoustic arrays and radar precise for fire, satellites and UAVs for sightings,
    /// open sources and party claims far noisier (DESIGN §4).
    static func model(_ event: EventKind, _ kind: SourceKind) -> SensorModel? {
        switch (event, kind) {
        case (.barrage, .acoustic): SensorModel(detection: 0.9, locationSigma: 250, timeSigma: 3, originSigma: 400)
        case (.barrage, .radar): SensorModel(detection: 0.8, locationSigma: 200, timeSigma: 2, originSigma: 150)
        case (.barrage, .staticCamera): SensorModel(detection: 0.35, locationSigma: 400, timeSigma: 1)
        case (.barrage, .patrol): SensorModel(detection: 0.3, locationSigma: 1_500, timeSigma: 30, bearingSigma: 6)
        case (.barrage, .osint): SensorModel(detection: 0.4, locationSigma: 3_000, timeSigma: 900)
        case (.smallArms, .acoustic): SensorModel(detection: 0.7, locationSigma: 300, timeSigma: 3)
        case (.smallArms, .staticCamera): SensorModel(detection: 0.4, locationSigma: 300, timeSigma: 1)
        case (.smallArms, .patrol): SensorModel(detection: 0.5, locationSigma: 500, timeSigma: 30, bearingSigma: 10)
        case (.smallArms, .osint): SensorModel(detection: 0.1, locationSigma: 3_000, timeSigma: 900)
        case (.heavyWeapon, .satellite): SensorModel(detection: 0.8, locationSigma: 10, timeSigma: 0)
        case (.heavyWeapon, .uav): SensorModel(detection: 0.6, locationSigma: 40, timeSigma: 5)
        case (.heavyWeapon, .patrol): SensorModel(detection: 0.2, locationSigma: 200, timeSigma: 60)
        case (.heavyWeapon, .osint): SensorModel(detection: 0.2, locationSigma: 2_000, timeSigma: 1_800)
        case (.incursion, .uav): SensorModel(detection: 0.7, locationSigma: 50, timeSigma: 5, originSigma: 300)
        case (.incursion, .staticCamera): SensorModel(detection: 0.5, locationSigma: 200, timeSigma: 1)
        case (.incursion, .patrol): SensorModel(detection: 0.3, locationSigma: 300, timeSigma: 60)
        case (.drone, .radar): SensorModel(detection: 0.85, locationSigma: 300, timeSigma: 2, originSigma: 500)
        case (.drone, .uav): SensorModel(detection: 0.3, locationSigma: 200, timeSigma: 5)
        case (.drone, .staticCamera): SensorModel(detection: 0.3, locationSigma: 300, timeSigma: 1)
        // Protected sites have their own cameras and counter-battery radar.
        case (.siteStrike, .staticCamera): SensorModel(detection: 0.95, locationSigma: 100, timeSigma: 1)
        case (.siteStrike, .radar): SensorModel(detection: 0.9, locationSigma: 150, timeSigma: 2, originSigma: 300)
        case (.siteStrike, .osint): SensorModel(detection: 0.6, locationSigma: 3_000, timeSigma: 900)
        default: nil
        }
    }

    /// A party's claims about the other party: reported for this share of its real events, located this badly.
    static let claimModel = SensorModel(detection: 0.5, locationSigma: 2_000, timeSigma: 600)
    /// Events per 24 hours along the whole line.
    static let dailyRates: [(EventKind, Double)] = [
        (.barrage, 240), (.smallArms, 120), (.heavyWeapon, 80), (.incursion, 15), (.drone, 60), (.siteStrike, 0.3),
    ]
    /// False reports per 24 hours: open sources, and each party's claims.
    static let falseOSINTPerDay = 24.0
    static let falseClaimsPerDayPerParty = 24.0
    /// False alarms per 24 hours of each reliable source, by kind, and what they claim to have seen.
    static let falseAlarms: [SourceKind: (perDay: Double, kind: ObservationKind, weapon: WeaponClass?, sigma: Double)] =
        [
            .acoustic: (2, .artilleryFire, .artillery100mmPlus, 250),
            .radar: (1, .artilleryFire, .artillery100mmPlus, 200),
            .staticCamera: (1, .explosion, nil, 400), .patrol: (0.5, .smallArmsFire, .smallArms, 500),
            .uav: (0.5, .heavyWeaponSighting, .tank, 40),
            .satellite: (0.2, .heavyWeaponSighting, .artillery100mmPlus, 10),
        ]
    /// Share of reports that a source sends twice (under two ids).
    static let duplicateRate = 0.05

    /// Simulates `hours` from `start` (default: one day after the agreement takes effect), with every kind of event
    /// and false report `intensity` times as frequent as usual (a busier front, for benchmarks).
    /// - Returns: the observations in arrival order (by report time) and truth.ndjson.
    public static func run(
        mission: Mission, seed: UInt64, hours: Double, start: Timestamp? = nil, intensity: Double = 1,
        noise: Noise = .standard
    ) -> (observations: [Observation], truth: [UInt8], actions: [GuaranteeAction]) {
        var simulator = Simulator(
            mission: mission, rng: SplitMix64(seed: seed),
            start: start ?? Timestamp(nanoseconds: mission.agreement.effectiveAt.nanoseconds + 86_400 * 1_000_000_000),
            hours: hours)
        simulator.intensity = intensity
        simulator.noise = noise
        simulator.generate()
        if noise == .harsh { simulator.fabricate(share: 0.2) }
        simulator.generateDeliveries()
        simulator.writeTruthAlerts()
        // Arrival order: by when each report reached the mission (observedAt plus a reporting delay).
        let arrival = simulator.observations.sorted {
            ($0.reportedAt ?? $0.observedAt, $0.id) < ($1.reportedAt ?? $1.observedAt, $1.id)
        }
        return (arrival, simulator.truth.bytes, simulator.deliveries)
    }

    mutating func generate() {
        let days = intensity * hours / 24
        for (kind, daily) in Self.dailyRates where kind != .siteStrike || !(mission.coalition?.sites.isEmpty ?? true) {
            for _ in 0..<poisson(daily * days) { event(kind) }
        }
        for _ in 0..<poisson(Self.falseOSINTPerDay * days) { falseReport(source: first(.osint), party: nil) }
        for source in mission.sources.sources {
            guard let alarm = Self.falseAlarms[source.kind] else { continue }
            for _ in 0..<poisson(alarm.perDay * days) {
                let location = offset(
                    pointOnLine(), toward: Int.random(in: 0..<2, using: &rng),
                    by: Double.random(in: 200...8_000, using: &rng))
                let at = Timestamp(
                    nanoseconds: start.nanoseconds + Int64(Double.random(in: 0..<(hours * 3_600), using: &rng) * 1e9))
                let model = SensorModel(detection: 1, locationSigma: alarm.sigma, timeSigma: 2)
                _ = report(
                    eventId: nil, source: source, model: model, kind: alarm.kind, weapon: alarm.weapon, at: at,
                    location: location, origin: nil, count: 1)
            }
        }
        for party in mission.agreement.parties {
            for _ in 0..<poisson(Self.falseClaimsPerDayPerParty * days) {
                falseReport(
                    source: mission.sources.sources.first { $0.kind == .partyClaim && $0.organisation == party.id },
                    party: party.id)
            }
        }
    }

    // MARK: Events

    mutating func event(_ kind: EventKind) {
        let parties = mission.agreement.parties
        let actor = Int.random(in: 0..<2, using: &rng)
        let victim = 1 - actor
        let at = Timestamp(
            nanoseconds: start.nanoseconds + Int64(Double.random(in: 0..<(hours * 3_600), using: &rng) * 1e9))
        let anchor = pointOnLine()
        var location: GeoPoint
        var origin: GeoPoint?
        var weapon: WeaponClass?
        var observedKind: ObservationKind
        var violations: [String] = []
        var count = 1
        switch kind {
        case .barrage:
            let roll = Double.random(in: 0..<1, using: &rng)
            (weapon, observedKind) =
                roll < 0.55
                ? (.artillery100mmPlus, .artilleryFire)
                : roll < 0.8 ? (.mortarUpTo120mm, .mortarFire) : (.mlrs, .mlrsFire)
            let range =
                weapon == .mlrs ? 10_000.0...30_000 : weapon == .mortarUpTo120mm ? 2_000.0...6_000 : 4_000.0...20_000
            origin = offset(anchor, toward: actor, by: Double.random(in: range, using: &rng) / 2)
            location = offset(anchor, toward: victim, by: Double.random(in: 500...8_000, using: &rng))
            violations = [weapon == .mlrs ? "mlrsFire" : "artilleryFire"]
            count = Int.random(in: 2...40, using: &rng)
        case .smallArms:
            weapon = .smallArms
            observedKind = .smallArmsFire
            origin = offset(anchor, toward: actor, by: Double.random(in: 200...800, using: &rng))
            location = offset(anchor, toward: victim, by: Double.random(in: 100...800, using: &rng))
            violations = ["lightFire"]
        case .heavyWeapon:
            weapon = [.tank, .artillery100mmPlus, .mlrs, .heavyMlrs].randomElement(using: &rng)!
            observedKind = weapon == .tank ? .armourMovement : .heavyWeaponSighting
            location = offset(anchor, toward: actor, by: Double.random(in: 500...90_000, using: &rng))
            count = Int.random(in: 1...6, using: &rng)
            let d = mission.classify(location).distanceToLineMeters
            // Stay clear of zone edges by 300 m so that ground truth itself is unambiguous.
            if mission.agreement.zones.contains(where: { abs($0.halfWidthMeters - d) < 300 }) { return event(kind) }
            if let zone = mission.agreement.zones.first(where: { $0.prohibitedWeaponClasses.contains(weapon!) }),
                d <= zone.halfWidthMeters
            {
                violations.append("heavyWeaponInWithdrawalZone")
            }
            if let buffer = mission.agreement.zones.first(where: { $0.id == "buffer" }), d <= buffer.halfWidthMeters {
                violations.append("militaryPresenceInBuffer")
            }
        case .incursion:
            observedKind = .incursion
            origin = offset(anchor, toward: actor, by: Double.random(in: 1_000...3_000, using: &rng))
            location = offset(anchor, toward: victim, by: Double.random(in: 400...3_000, using: &rng))
            violations = ["incursion"]
        case .siteStrike:
            let sites = mission.coalition!.sites
            let site = sites[Int.random(in: 0..<sites.count, using: &rng)]
            weapon = .mlrs
            observedKind = .mlrsFire
            location = jitter(site.location, sigma: site.radiusMeters / 4)
            if WGS84.distance(location, site.location) > site.radiusMeters * 0.8 { return event(kind) }
            let sitesSide = mission.classify(site.location).party
            return strike(location, by: 1 - sitesSide, at: at, anchor: anchor)
        case .drone:
            weapon = .uav
            observedKind = .droneFlight
            origin = offset(anchor, toward: actor, by: Double.random(in: 3_000...15_000, using: &rng))
            let inBuffer = Bool.random(using: &rng)
            location = offset(
                anchor, toward: victim,
                by: inBuffer
                    ? Double.random(in: 100...1_700, using: &rng) : Double.random(in: 2_300...10_000, using: &rng))
        }
        // The truth is where things really are: redraw if the line bends so that a point lands on the wrong side.
        let c = mission.classify(location)
        let intendedSide = kind == .heavyWeapon ? actor : victim
        if c.party != intendedSide { return event(kind) }
        if let origin, mission.classify(origin).party != actor { return event(kind) }
        if kind == .drone {
            let buffer = mission.agreement.zones.first { $0.id == "buffer" }?.halfWidthMeters ?? 2_000
            if abs(c.distanceToLineMeters - buffer) < 300 { return event(kind) }
            violations = c.distanceToLineMeters <= buffer ? ["droneInBuffer"] : []
        }

        nextEvent += 1
        let eventId = String(format: "T%06d", nextEvent)
        let firstReport = observations.count
        var originObserved = false
        for source in mission.sources.sources where source.kind != .partyClaim {
            guard let model = Self.model(kind, source.kind) else { continue }
            if (source.kind == .staticCamera || source.kind == .patrol) && c.distanceToLineMeters > 15_000 { continue }
            let reported = report(
                eventId: eventId, source: source, model: model, kind: observedKind, weapon: weapon, at: at,
                location: location, origin: origin, count: count)
            originObserved = originObserved || reported
        }
        // The victim's claims (the actor does not report its own violations).
        if let claims = mission.sources.sources.first(where: {
            $0.kind == .partyClaim && $0.organisation == parties[victim].id
        }),
            kind != .heavyWeapon
        {
            _ = report(
                eventId: eventId, source: claims, model: Self.claimModel, kind: observedKind, weapon: weapon, at: at,
                location: location, origin: nil, count: count)
        }
        if kind == .heavyWeapon { originObserved = true }  // a sighting shows on whose side the weapon stands
        record(
            TruthEvent(
                id: eventId, kind: kind, observedKind: observedKind, at: at, location: location,
                party: parties[actor].id, violations: violations), origin: origin, originObserved: originObserved,
            verifiable: verifiable(observations[firstReport...]))
    }

    /// Rockets from `actor`'s side onto a protected site: seen by the site's cameras and radar, claimed by the victim.
    mutating func strike(_ location: GeoPoint, by actor: Int, at: Timestamp, anchor: GeoPoint) {
        let origin = offset(anchor, toward: actor, by: Double.random(in: 10_000...30_000, using: &rng))
        if mission.classify(origin).party != actor { return event(.siteStrike) }
        nextEvent += 1
        let eventId = String(format: "T%06d", nextEvent)
        let firstReport = observations.count
        var originObserved = false
        for source in mission.sources.sources where source.kind != .partyClaim {
            guard let model = Self.model(.siteStrike, source.kind) else { continue }
            originObserved =
                report(
                    eventId: eventId, source: source, model: model, kind: .mlrsFire, weapon: .mlrs, at: at,
                    location: location, origin: origin, count: 12) || originObserved
        }
        record(
            TruthEvent(
                id: eventId, kind: .siteStrike, observedKind: .mlrsFire, at: at, location: location,
                party: mission.agreement.parties[actor].id, violations: ["mlrsFire"]), origin: origin,
            originObserved: originObserved, verifiable: verifiable(observations[firstReport...]))
    }

    /// Whether an event's reports could verify it under the mission's policy: a source of a grade that verifies
    /// alone, or enough independent sources of reliable grade (party claims never count).
    func verifiable(_ reports: ArraySlice<Observation>) -> Bool {
        let policy = mission.agreement.verification
        var reliable: [Source] = []
        let lateness = Int64(policy.allowedLatenessSeconds * 1e9)
        for o in reports {
            // A report filed beyond the allowed lateness cannot verify the incident the timely ones make.
            if let filed = o.reportedAt, filed.nanoseconds - o.observedAt.nanoseconds > lateness { continue }
            guard let source = mission.sources[o.source], source.kind != .partyClaim,
                policy.reliableGrades.contains(source.reliability)
                    || policy.verifyAloneGrades.contains(source.reliability)
            else { continue }
            if policy.verifyAloneGrades.contains(source.reliability) { return true }
            if !reliable.contains(where: { !$0.isIndependent(of: source) }) { reliable.append(source) }
        }
        return reliable.count >= policy.verifyWith
    }

    /// Writes one truth event and keeps it.
    mutating func record(_ e: TruthEvent, origin: GeoPoint?, originObserved: Bool, verifiable: Bool) {
        events.append(e)
        let (eventId, kind, at, location, violations) = (e.id, e.kind, e.at, e.location, e.violations)
        truth.beginObject()
        truth.key("type"); truth.string("event")
        truth.key("id"); truth.string(eventId)
        truth.key("kind"); truth.string(kind.rawValue)
        truth.key("at"); truth.timestamp(at)
        truth.key("location"); point(location)
        truth.key("origin")
        if let origin { point(origin) } else { truth.null() }
        truth.key("party"); truth.string(e.party)
        truth.key("violations")
        truth.beginArray()
        for v in violations { truth.string(v) }
        truth.endArray()
        truth.key("originObserved"); truth.bool(originObserved)
        truth.key("verifiable"); truth.bool(verifiable)
        truth.endObject()
        truth.newline()
    }

    /// Deliveries against the standing logistics pledges: every two days, from the agreement's effective time, a
    /// share in line with the pledge; one pledge (drawn by the seed) stops after the first two deliveries, so that
    /// its continuity breaks. Written to truth.ndjson as a `shortfall` line.
    mutating func generateDeliveries() {
        guard let coalition = mission.coalition else { return }
        let pledges = coalition.pledges.filter { $0.pillar == .logistics && $0.fromLevel == nil }
        guard !pledges.isEmpty else { return }
        let defaulter = pledges[Int.random(in: 0..<pledges.count, using: &rng)].id
        let end = start.adding(Timestamp.seconds(hours * 3_600))
        for pledge in pledges {
            var k = 0
            while true {
                let at = mission.agreement.effectiveAt.adding(
                    Timestamp.seconds(Double(k) * 2 * 86_400 + Double.random(in: 0..<6, using: &rng) * 3_600))
                guard at < end, pledge.id != defaulter || k < 2 else { break }
                let share = pledge.quantity! * 2 / pledge.periodDays!
                deliveries.append(
                    GuaranteeAction(
                        id: "delivery/\(pledge.id)/\(k)", delivery: pledge.id,
                        quantity: (share * Double.random(in: 0.9...1.1, using: &rng)).rounded(), at: at,
                        by: Actor(member: pledge.member, user: pledge.member.lowercased() + "-logistics")))
                k += 1
            }
            if pledge.id == defaulter {
                truth.beginObject()
                truth.key("type"); truth.string("shortfall")
                truth.key("pledge"); truth.string(pledge.id)
                truth.key("member"); truth.string(pledge.member)
                truth.endObject()
                truth.newline()
            }
        }
    }

    /// When each trigger's condition truly became true: the guarantee engine run on the true violations (every event
    /// seen, verified at the moment it happened, attributed to its real party). Written as `alert` lines of truth.ndjson.
    mutating func writeTruthAlerts() {
        guard let engine = GuaranteeEngine(mission: mission) else { return }
        let severity = Dictionary(uniqueKeysWithValues: mission.agreement.rules.map { ($0.id, $0.severity) })
        var violations: [Violation] = []
        var incidents: [Incident] = []
        for e in events {
            let c = mission.classify(e.location)
            let sector = c.sector >= 0 ? mission.sectors.names[Int(c.sector)] : nil
            for rule in e.violations {
                violations.append(
                    Violation(
                        id: "V\(e.id)-\(rule)", incidentId: e.id, rule: rule, severity: severity[rule] ?? .minor,
                        attributedTo: e.party, attributionBasis: "truth", zone: nil,
                        distanceToLineMeters: c.distanceToLineMeters, at: e.at, probability: 1,
                        incidentStatus: .verified,
                        sector: sector, verifiedAt: e.at))
            }
            incidents.append(
                Incident(
                    id: e.id, observationIds: [], kind: e.observedKind, weaponClass: nil,
                    location: Location(point: e.location, uncertaintyMeters: 0), start: e.at, end: e.at, count: 1,
                    sources: [], independentSources: 0, independentReliableSources: 0, credibility: 1,
                    status: .verified, classification: c, late: false, credibleAt: e.at, verifiedAt: e.at))
        }
        let end = start.adding(Timestamp.seconds(hours * 3_600))
        let results = engine.run(incidents: incidents, violations: violations, actions: [], clock: end)
        for alert in results.alerts where alert.kind == .trigger || alert.kind == .tripwire {
            truth.beginObject()
            truth.key("type"); truth.string("alert")
            truth.key("triggerId"); truth.string(alert.triggerId)
            truth.key("level"); truth.int(alert.level)
            truth.key("at"); truth.timestamp(alert.firedAt)
            truth.key("sector")
            if let sector = alert.sector { truth.string(sector) } else { truth.null() }
            truth.key("party")
            if let party = alert.party { truth.string(party) } else { truth.null() }
            truth.key("site")
            if let site = alert.site { truth.string(site) } else { truth.null() }
            truth.key("eventIds")
            truth.beginArray()
            for id in alert.violationIds { truth.string(String(id.dropFirst().prefix { $0 != "-" })) }
            truth.endArray()
            truth.endObject()
            truth.newline()
        }
    }

    /// Reports of one source (perhaps none, perhaps twice); returns whether a report stated a point of origin.
    mutating func report(
        eventId: String?, source: Source, model: SensorModel, kind: ObservationKind, weapon: WeaponClass?,
        at: Timestamp,
        location: GeoPoint, origin: GeoPoint?, count: Int
    ) -> Bool {
        guard Double.random(in: 0..<1, using: &rng) < model.detection else { return false }
        var model = model
        let vague = source.kind == .osint || source.kind == .partyClaim
        if noise != .standard {
            if vague { model.locationSigma = Double.random(in: 1_600...4_000, using: &rng) }  // typically 2–5 km off
            if source.kind == .acoustic && kind == .smallArmsFire { model.originSigma = 150 }
        }
        if noise == .harsh {
            model.locationSigma *= 2
            model.timeSigma *= 2
            model.originSigma = model.originSigma.map { $0 * 2 }
            model.bearingSigma = model.bearingSigma.map { $0 * 2 }
        }
        var carried = false
        let copies = Double.random(in: 0..<1, using: &rng) < Self.duplicateRate ? 2 : 1
        for _ in 0..<copies {
            let seen = jitter(location, sigma: model.locationSigma)
            var timeError = gaussian() * model.timeSigma
            var statedTimeUncertainty = (2 * model.timeSigma).rounded()
            if noise != .standard && vague {
                // Minutes off, one way or the other, and not said.
                let minutes = Double.random(in: 600...1_800, using: &rng) * (noise == .harsh ? 2 : 1)
                timeError = Bool.random(using: &rng) ? minutes : -minutes
                statedTimeUncertainty = 0
            }
            let observedAt = Timestamp(nanoseconds: at.nanoseconds + Int64(timeError * 1e9))
            var delay =
                vague ? Double.random(in: 600...5_400, using: &rng) : Double.random(in: 5...300, using: &rng)
            if noise != .standard && source.kind == .patrol && Double.random(in: 0..<1, using: &rng) < 0.1 {
                delay = Double.random(in: 23_400...43_200, using: &rng)  // back from the field, then written up
            }
            var stated: Location?
            var bearing: Double?
            if let origin, let sigma = model.originSigma {
                stated = Location(point: jitter(origin, sigma: sigma), uncertaintyMeters: (2 * sigma).rounded())
            } else if let origin, let sigma = model.bearingSigma {
                let b = Self.bearing(from: seen, to: origin) + gaussian() * sigma
                bearing =
                    ((b.truncatingRemainder(dividingBy: 360) + 360).truncatingRemainder(dividingBy: 360) * 10).rounded(
                        .down) / 10
            }
            // An origin counts as observed when a report states a point of origin; one bearing is not enough.
            carried = carried || stated != nil
            nextObservation += 1
            let observation = Observation(
                id: "\(source.id)/\(nextObservation)", source: source.id, observedAt: observedAt, kind: kind,
                location: Location(point: seen, uncertaintyMeters: (2 * model.locationSigma).rounded()),
                reportedAt: Timestamp(nanoseconds: max(observedAt.nanoseconds, at.nanoseconds) + Int64(delay * 1e9)),
                timeUncertaintySeconds: statedTimeUncertainty, origin: stated, bearingDegrees: bearing,
                weaponClass: weapon, count: count)
            observations.append(observation)
            truth.beginObject()
            truth.key("type"); truth.string("observation")
            truth.key("observationId"); truth.string(observation.id)
            truth.key("eventId")
            if let eventId { truth.string(eventId) } else { truth.null() }
            truth.key("sourceKind"); truth.string(source.kind.rawValue)
            truth.endObject()
            truth.newline()
        }
        return carried
    }

    /// A report of something that did not happen.
    mutating func falseReport(source: Source?, party: String?) {
        guard let source else { return }
        let kinds: [(ObservationKind, WeaponClass?)] = [
            (.artilleryFire, .artillery100mmPlus), (.mortarFire, .mortarUpTo120mm), (.smallArmsFire, .smallArms),
            (.droneFlight, .uav),
        ]
        let (kind, weapon) = kinds.randomElement(using: &rng)!
        var location = offset(
            pointOnLine(), toward: Int.random(in: 0..<2, using: &rng), by: Double.random(in: 200...8_000, using: &rng))
        if let party, let own = mission.agreement.parties.firstIndex(where: { $0.id == party }) {
            location = offset(pointOnLine(), toward: own, by: Double.random(in: 500...8_000, using: &rng))
        }
        let at = Timestamp(
            nanoseconds: start.nanoseconds + Int64(Double.random(in: 0..<(hours * 3_600), using: &rng) * 1e9))
        let model = SensorModel(detection: 1, locationSigma: source.kind == .osint ? 3_000 : 2_000, timeSigma: 600)
        _ = report(
            eventId: nil, source: source, model: model, kind: kind, weapon: weapon, at: at, location: location,
            origin: nil, count: 1)
    }

    /// Adds fabricated reports — disinformation, from open sources and the parties' claims — until they are `share`
    /// of all reports. Sensors' false alarms are modelled apart, at their own rates (``falseAlarms``).
    mutating func fabricate(share: Double) {
        let wanted = Int((Double(observations.count) * share / (1 - share)).rounded())
        let liars = mission.sources.sources.filter { $0.kind == .osint || $0.kind == .partyClaim }
        guard !liars.isEmpty else { return }
        for _ in 0..<wanted {
            let source = liars[Int.random(in: 0..<liars.count, using: &rng)]
            falseReport(source: source, party: source.kind == .partyClaim ? source.organisation : nil)
        }
    }

    // MARK: Geometry and randomness

    func first(_ kind: SourceKind) -> Source? { mission.sources.sources.first { $0.kind == kind } }

    mutating func pointOnLine() -> GeoPoint {
        let parts = mission.line.parts
        let part = parts[Int.random(in: 0..<parts.count, using: &rng)]
        let i = Int.random(in: 0..<(part.count - 1), using: &rng)
        let t = Double.random(in: 0..<1, using: &rng)
        return GeoPoint(
            lon: part[i].lon + (part[i + 1].lon - part[i].lon) * t,
            lat: part[i].lat + (part[i + 1].lat - part[i].lat) * t)
    }

    /// A point `meters` from `p`, across the line towards party `side`'s side (perpendicular to the local edge).
    mutating func offset(_ p: GeoPoint, toward side: Int, by meters: Double) -> GeoPoint {
        // Direction along the line from two nearby points of it, in local metres.
        let kx = 111_320 * cos(p.lat * .pi / 180), ky = 110_574.0
        var best = (0.0, 0.0)
        for part in mission.line.parts {
            for i in 0..<(part.count - 1) {
                let a = part[i], b = part[i + 1]
                let ax = (a.lon - p.lon) * kx, ay = (a.lat - p.lat) * ky, bx = (b.lon - p.lon) * kx,
                    by = (b.lat - p.lat) * ky
                let dx = bx - ax, dy = by - ay
                let t = max(0, min(1, -(ax * dx + ay * dy) / (dx * dx + dy * dy)))
                let ex = ax + t * dx, ey = ay + t * dy
                if ex * ex + ey * ey < 1 { best = (dx, dy) }
            }
        }
        let norm = max((best.0 * best.0 + best.1 * best.1).squareRoot(), 1e-9)
        // Left of the line's direction is (−dy, dx).
        let leftward = side == mission.leftParty ? 1.0 : -1.0
        let nx = -best.1 / norm * leftward, ny = best.0 / norm * leftward
        return GeoPoint(lon: p.lon + nx * meters / kx, lat: p.lat + ny * meters / ky)
    }

    mutating func jitter(_ p: GeoPoint, sigma: Double) -> GeoPoint {
        let kx = 111_320 * cos(p.lat * .pi / 180), ky = 110_574.0
        let lon = p.lon + gaussian() * sigma / kx, lat = p.lat + gaussian() * sigma / ky
        return GeoPoint(lon: (lon * 1e6).rounded() / 1e6, lat: (lat * 1e6).rounded() / 1e6)
    }

    static func bearing(from a: GeoPoint, to b: GeoPoint) -> Double {
        let kx = 111_320 * cos(a.lat * .pi / 180), ky = 110_574.0
        let angle = atan2((b.lon - a.lon) * kx, (b.lat - a.lat) * ky) * 180 / .pi
        return angle < 0 ? angle + 360 : angle
    }

    mutating func gaussian() -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &rng), u2 = Double.random(in: 0..<1, using: &rng)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    mutating func poisson(_ mean: Double) -> Int {
        // Knuth's method in chunks, exact enough for the rates used here.
        var remaining = mean, count = 0
        while remaining > 0 {
            let step = min(remaining, 30)
            remaining -= step
            let limit = exp(-step)
            var p = 1.0
            while true {
                p *= Double.random(in: 0..<1, using: &rng)
                if p <= limit { break }
                count += 1
            }
        }
        return count
    }

    mutating func point(_ p: GeoPoint) {
        truth.beginObject()
        truth.key("lon"); truth.number(p.lon)
        truth.key("lat"); truth.number(p.lat)
        truth.endObject()
    }
}
