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
        let action: MissionAction
        do {
            action = try MissionAction(json: JSONValue.parse(bytes))
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

}
