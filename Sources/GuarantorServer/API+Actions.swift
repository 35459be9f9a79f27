import Foundation
import GuarantorCore
import GuarantorStore
import Hummingbird

/// People's actions: analysts' reviews, the board's endorsements, parties' contests, members' answers and
/// deliveries, the mission's clock — each checked against the engine before it is stored.
extension GuarantorAPI {
    func act(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        try Self.noParameters(request)
        let bytes = try await body(request)
        let receivedAt = WallClock.now()
        let action: MissionAction
        do {
            action = try receive(JSONValue.parse(bytes), at: receivedAt)
        } catch let error as FieldError {
            throw APIError(.badRequest, "\(error.path.isEmpty ? "" : error.path + ": ")\(error.reason)")
        } catch {
            throw APIError(.badRequest, "\(error)")
        }
        let right = Right.needed(for: action)
        guard Role(rawValue: caller.role)?.rights.contains(right) == true else {
            throw APIError(.forbidden, "the role \(caller.role) cannot \(right.rawValue)")
        }
        let actor: Actor =
            switch action {
            case .review(let a): a.actor
            case .guarantee(let a): a.actor
            }
        guard actor.member == caller.member, actor.user == caller.user else {
            throw APIError(.forbidden, "member and user must be your key's (\(caller.member), \(caller.user))")
        }
        if let wait = limiter.take(caller.id) {
            throw APIError(.tooManyRequests, "too many requests for this key", retryAfter: Int(wait.rounded(.up)))
        }
        let outcome = try await state.act(action)
        guard outcome == "applied" else { throw APIError(.unprocessableContent, outcome) }
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.string(action.id)
        w.key("outcome"); w.string(outcome)
        w.endObject()
        return Self.json(w.bytes, status: .created)
    }

    /// An action received at `receivedAt`: its time is the receipt's unless the sender dates it earlier, within
    /// ``APILimits/maximumBackdatingSeconds``; a time after the receipt is refused (a client's clock never moves the
    /// mission's). A retry of a stored action that gave no time is the stored action.
    private func receive(_ json: JSONValue, at receivedAt: Timestamp) throws -> MissionAction {
        guard case .object(var members) = json else { return try MissionAction(json: json) }
        members["receivedAt"] = nil
        if let at = members["at"] {
            guard case .string(let text) = at, let time = Timestamp(rfc3339: text) else {
                return try MissionAction(json: json)
            }
            if time > receivedAt {
                throw FieldError(
                    path: "at",
                    reason: "\(time) is after the action's receipt \(receivedAt): the sender's clock is ahead")
            }
            if limits.maximumBackdatingSeconds.isFinite,
                time < receivedAt.adding(-Timestamp.seconds(limits.maximumBackdatingSeconds))
            {
                throw FieldError(
                    path: "at",
                    reason: "\(time) is more than \(Int(limits.maximumBackdatingSeconds / 3600)) h before the action's "
                        + "receipt \(receivedAt)")
            }
        } else {
            if case .string(let id) = members["id"], let stored = try state.store.action(id: id) {
                members["at"] = .string(stored.at.rfc3339)
            } else {
                members["at"] = .string(receivedAt.rfc3339)
            }
        }
        return try MissionAction(json: .object(members)).received(at: receivedAt)
    }

}
