// The batch engine as it was before the incremental one: kept in the tests as the specification the incremental
// engine is compared with (property tests), never used by the product.
import Foundation

@testable import GuarantorCore

/// Incidents under construction: groups of observation indices, and what analysts decided about them.
struct ReferenceIncidentGroups {
    /// Observation indices per group, each sorted by (observedAt, id).
    var members: [Int: [Int]] = [:]
    /// The group of each observation.
    var groupOf: [Int]
    /// Status set by analysts, which automatic grading no longer changes.
    var reviewedStatus: [Int: IncidentStatus] = [:]
    var lastReview: [Int: ReviewAction] = [:]
    /// The action that set `reviewedStatus`.
    var lastStatusChange: [Int: ReviewAction] = [:]
    /// Observations two incidents explain about equally, each an incident of its own: the ids of the two anchors.
    var ambiguous: [Int: [String]] = [:]
    /// The next key for a group made by a split.
    var nextKey: Int

    init(count: Int) {
        groupOf = Array(repeating: 0, count: count)
        nextKey = count
    }
}

extension ReferenceVerification {
    /// Actions in the order they apply: by event time, then id.
    var sortedActions: [ReviewAction] { actions.sorted { ($0.at, $0.id) < ($1.at, $1.id) } }

    /// Applies verify, reject, dispute, reopen, merge and split in order; returns each one's outcome by action id.
    ///
    /// An action names an incident by the id it had when the analyst saw it; that id is the hash of the incident's
    /// earliest observation, which stays in the same group however many observations arrive later, so the action
    /// finds its incident in any replay.
    func applyIncidentActions(to groups: inout ReferenceIncidentGroups) -> [String: String] {
        let incidentActions = sortedActions.filter { !$0.kind.concernsViolation }
        guard !incidentActions.isEmpty else { return [:] }
        var named = Set(incidentActions.flatMap { [$0.target] + $0.mergedIncidents })
        var observationOfIncident: [String: Int] = [:]
        var indexOfObservation: [String: Int] = [:]
        let splitIds = Set(incidentActions.flatMap(\.splitObservations))
        for (i, observation) in observations.enumerated() {
            if splitIds.contains(observation.id) { indexOfObservation[observation.id] = i }
            guard !named.isEmpty else { continue }
            let id = Self.incidentId(firstObservation: observation.id)
            if named.remove(id) != nil { observationOfIncident[id] = i }
        }
        func group(_ incident: String) throws -> Int {
            guard let i = observationOfIncident[incident] else {
                throw ReviewError(.unknownTarget, "no incident \(incident)")
            }
            return groups.groupOf[i]
        }
        let times = self.times, observations = self.observations
        let earlier = { (a: Int, b: Int) in Self.isEarlier(a, b, times, observations) }
        var outcomes: [String: String] = [:]
        let partyIds = mission.agreement.parties.map(\.id)
        for action in incidentActions {
            do {
                if let refusal = DecisionRights.refusal(action, parties: partyIds) { throw refusal }
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
                        guard let i = indexOfObservation[id], groups.groupOf[i] == key else {
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
                    let members = groups.members[key]!
                    let current = groups.reviewedStatus[key] ?? makeIncident(members: members).status
                    let submitters = Set(members.compactMap { observations[$0].submittedBy })
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
        return outcomes
    }

    /// Applies endorsements and contests to the findings they name; returns each one's outcome by action id.
    func applyViolationActions(to violations: inout [Violation], incidents: [Incident], groups: ReferenceIncidentGroups)
        -> [String: String]
    {
        let violationActions = sortedActions.filter(\.kind.concernsViolation)
        guard !violationActions.isEmpty else { return [:] }
        let board = mission.agreement.board
        let parties = mission.agreement.parties.map(\.id)
        // A violation id is "V" + its incident's digits + "-" + rule; the incident may have been renamed since.
        var currentIncidentId: [String: String] = [:]
        let named = Set(violationActions.map { "I" + $0.target.dropFirst().prefix { $0 != "-" } })
        for (i, observation) in observations.enumerated() where !named.isEmpty {
            let id = Self.incidentId(firstObservation: observation.id)
            if named.contains(id) {
                let first = groups.members[groups.groupOf[i]]![0]
                currentIncidentId[id] = Self.incidentId(firstObservation: observations[first].id)
            }
        }
        var indexOfViolation: [String: Int] = [:]
        for (i, v) in violations.enumerated() { indexOfViolation[v.id] = i }
        var outcomes: [String: String] = [:]
        for action in violationActions {
            let incident = "I" + action.target.dropFirst().prefix { $0 != "-" }
            let rule = action.target.drop { $0 != "-" }
            guard let current = currentIncidentId[incident],
                let index = indexOfViolation["V" + current.dropFirst() + rule]
            else {
                outcomes[action.id] = "refused: no violation \(action.target) stands"
                continue
            }
            let member = action.actor.member
            if let refusal = DecisionRights.refusal(action, parties: parties) {
                outcomes[action.id] = "refused: \(refusal)"
                continue
            }
            switch action.kind {
            case .endorse:
                if !board.members.contains(member) {
                    outcomes[action.id] =
                        "refused: \(member) is not on the board (\(board.members.joined(separator: ", ")))"
                } else if violations[index].incidentStatus != .verified {
                    outcomes[action.id] =
                        "refused: the board endorses only verified findings; the incident is \(violations[index].incidentStatus.rawValue)"
                } else if violations[index].endorsedBy.contains(member) {
                    outcomes[action.id] = "refused: \(member) has already endorsed \(violations[index].id)"
                } else {
                    violations[index].endorsedBy.append(member)
                    violations[index].endorsed = violations[index].endorsedBy.count >= board.quorum
                    outcomes[action.id] = "applied"
                }
            default:
                if !parties.contains(member) {
                    outcomes[action.id] =
                        "refused: only a party (\(parties.joined(separator: ", "))) contests a finding"
                } else {
                    violations[index].contests.append(action)
                    outcomes[action.id] = "applied"
                }
            }
        }
        return outcomes
    }
}
