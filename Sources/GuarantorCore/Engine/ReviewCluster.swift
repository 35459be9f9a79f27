/// People's decisions applied to the groups they name: an analyst's verify, reject, dispute, reopen, merge and split,
/// then the board's endorsements and the parties' contests of the findings.
///
/// Actions that name the same groups form a *cluster*; clusters are independent of each other, so applying each
/// cluster's actions in (at, id) order to its groups as they stand gives what applying every action in that order to
/// every group would.
enum ReviewCluster {
    /// The incidents and findings of `rawGroups` (each sorted by (observedAt, id)) after `actions` (sorted by
    /// (at, id)), and each action's outcome by id: `applied` or `refused: why`.
    static func apply(_ builder: IncidentBuilder, rawGroups: [[Report]], actions: [ReviewAction]) -> (
        records: [IncidentRecord], outcomes: [String: String]
    ) {
        var all: [Report] = []
        var groups = IncidentGroups(count: 0)
        groups.groupOf = []
        for (k, group) in rawGroups.enumerated() {
            groups.members[k] = Array(all.count..<all.count + group.count)
            for _ in group { groups.groupOf.append(k) }
            all += group
        }
        groups.nextKey = rawGroups.count
        let keys = all.map { IncidentKey.of(observationId: $0.observation.id) }
        var indexOfKey: [UInt64: Int] = [:]
        for (i, key) in keys.enumerated() where indexOfKey[key] == nil { indexOfKey[key] = i }
        let earlier = { (a: Int, b: Int) in all[a].isEarlier(than: all[b]) }

        // Incident actions.
        var outcomes: [String: String] = [:]
        func group(_ incident: String) throws -> Int {
            guard let key = IncidentKey.parse(incident), incident.hasPrefix("I"), let i = indexOfKey[key] else {
                throw ReviewError(.unknownTarget, "no incident \(incident)")
            }
            return groups.groupOf[i]
        }
        let parties = builder.mission.agreement.parties.map(\.id)
        for action in actions where !action.kind.concernsViolation {
            do {
                if let refusal = DecisionRights.refusal(action, parties: parties) { throw refusal }
                let key = try group(action.target)
                switch action.kind {
                case .merge:
                    var others: [Int] = []
                    for other in action.mergedIncidents {
                        let k = try group(other)
                        guard k != key, !others.contains(k) else {
                            throw ReviewError(.transitionNotAllowed, "\(other) is already part of \(action.target)")
                        }
                        others.append(k)
                    }
                    guard groups.reviewedStatus[key] != .rejected else {
                        throw ReviewError(.transitionNotAllowed, "cannot merge into a rejected incident")
                    }
                    for k in others {
                        for i in groups.members[k]! { groups.groupOf[i] = key }
                        groups.members[key]! += groups.members.removeValue(forKey: k)!
                        groups.reviewedStatus[k] = nil
                        groups.lastReview[k] = nil
                        groups.lastStatusChange[k] = nil
                    }
                    groups.members[key]!.sort(by: earlier)
                case .split:
                    let taken = try action.splitObservations.map { id in
                        guard let i = all.firstIndex(where: { $0.observation.id == id }), groups.groupOf[i] == key
                        else {
                            throw ReviewError(.unknownTarget, "observation \(id) is not part of \(action.target)")
                        }
                        return i
                    }
                    guard taken.count < groups.members[key]!.count else {
                        throw ReviewError(.transitionNotAllowed, "a split must leave at least one observation")
                    }
                    let newKey = groups.nextKey
                    groups.nextKey += 1
                    let takenSet = Set(taken)
                    groups.members[key]!.removeAll { takenSet.contains($0) }
                    groups.members[newKey] = taken.sorted(by: earlier)
                    for i in taken { groups.groupOf[i] = newKey }
                default:
                    let members = groups.members[key]!.map { all[$0] }
                    let current = groups.reviewedStatus[key] ?? builder.incident(members).status
                    let submitters = Set(members.compactMap { $0.observation.submittedBy })
                    groups.reviewedStatus[key] = try IncidentReview.apply(
                        action, to: current, submitters: submitters)
                    groups.lastStatusChange[key] = action
                }
                groups.lastReview[key] = action
                outcomes[action.id] = "applied"
            } catch {
                outcomes[action.id] = "refused: \(error)"
            }
        }

        // The incidents and findings as the analysts left them.
        var records: [IncidentRecord] = []
        var recordOfGroup: [Int: Int] = [:]
        for key in groups.members.keys.sorted() {
            let members = groups.members[key]!.map { all[$0] }
            let review = ReviewState(
                status: groups.reviewedStatus[key], statusChange: groups.lastStatusChange[key],
                lastReview: groups.lastReview[key])
            recordOfGroup[key] = records.count
            records.append(builder.record(members, review: review))
        }

        // Endorsements and contests. A violation id is "V" + its incident's digits + "-" + rule; the incident may
        // have been renamed since (merged, or an earlier report joined).
        let board = builder.mission.agreement.board
        for action in actions where action.kind.concernsViolation {
            let rule = action.target.drop { $0 != "-" }
            guard let key = IncidentKey.parse(action.target), action.target.hasPrefix("V"), let i = indexOfKey[key],
                let r = recordOfGroup[groups.groupOf[i]],
                let f = records[r].findings.firstIndex(where: {
                    $0.id == "V" + records[r].incident.id.dropFirst() + rule
                })
            else {
                outcomes[action.id] = "refused: no violation \(action.target) stands"
                continue
            }
            if let refusal = DecisionRights.refusal(action, parties: parties) {
                outcomes[action.id] = "refused: \(refusal)"
                continue
            }
            let member = action.actor.member
            let v = records[r].findings[f]
            switch action.kind {
            case .endorse:
                if !board.members.contains(member) {
                    outcomes[action.id] =
                        "refused: \(member) is not on the board (\(board.members.joined(separator: ", ")))"
                } else if v.incidentStatus != .verified {
                    outcomes[action.id] =
                        "refused: the board endorses only verified findings; the incident is \(v.incidentStatus.rawValue)"
                } else if v.endorsedBy.contains(member) {
                    outcomes[action.id] = "refused: \(member) has already endorsed \(v.id)"
                } else {
                    records[r].findings[f].endorsedBy.append(member)
                    records[r].findings[f].endorsed = records[r].findings[f].endorsedBy.count >= board.quorum
                    outcomes[action.id] = "applied"
                }
            default:
                records[r].findings[f].contests.append(action)
                outcomes[action.id] = "applied"
            }
        }
        for action in actions where outcomes[action.id] == nil { outcomes[action.id] = "refused: not applied" }
        return (records, outcomes)
    }
}

/// Incidents under construction: groups of member indices, and what analysts decided about them.
struct IncidentGroups {
    /// Member indices per group, each sorted by (observedAt, id).
    var members: [Int: [Int]] = [:]
    /// The group of each member.
    var groupOf: [Int]
    /// Status set by analysts, which automatic grading no longer changes.
    var reviewedStatus: [Int: IncidentStatus] = [:]
    var lastReview: [Int: ReviewAction] = [:]
    /// The action that set `reviewedStatus`.
    var lastStatusChange: [Int: ReviewAction] = [:]
    /// The next key for a group made by a split.
    var nextKey: Int

    init(count: Int) {
        groupOf = Array(repeating: 0, count: count)
        nextKey = count
    }
}
