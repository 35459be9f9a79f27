import Foundation
import GuarantorCore
import GuarantorStore
import Hummingbird

/// Observations in: one (application/json) or many (application/x-ndjson), all or none.
extension GuarantorAPI {
    func ingest(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        try Self.noParameters(request)
        let started = ContinuousClock.now
        var bytes = try await body(request)
        let contentType = request.headers[.contentType] ?? ""
        if contentType.hasPrefix("application/json") {
            // One observation: a one-line NDJSON body, so that errors read the same.
            bytes.removeAll { $0 == 0x0A || $0 == 0x0D }
        } else if !contentType.hasPrefix("application/x-ndjson") {
            throw APIError(
                .unsupportedMediaType, "send application/json (one observation) or application/x-ndjson (many)")
        }
        let lines = bytes.reduce(into: 1) { n, b in if b == 0x0A { n += 1 } }
        if lines > limits.maximumBatch + 1 {
            throw APIError(.contentTooLarge, "at most \(limits.maximumBatch) observations a request")
        }
        let mission = state.mission
        switch ObservationBatch.parse(bytes, isKnownSource: mission.sources.contains) {
        case .failure(let rejection):
            throw APIError(.badRequest, "rejected, nothing was stored", lineErrors: rejection)
        case .success(var batch):
            // Who filed it comes from the key, never from the body; when, from the server's clock.
            for i in batch.observations.indices {
                batch.observations[i].submittedBy = caller.user
                batch.observations[i].originator = caller.member
            }
            do {
                try batch.receive(at: WallClock.now(), maximumSkewSeconds: limits.maximumSkewSeconds)
            } catch {
                throw APIError(.badRequest, "rejected, nothing was stored", lineErrors: error)
            }
            let outcome = try await state.ingest(batch.observations, maximumSkewSeconds: limits.maximumSkewSeconds)
            metrics.observations.increment(by: Int64(outcome.appended))
            metrics.ingestSeconds.record(ContinuousClock.now - started)
            var w = JSONWriter()
            w.beginObject()
            w.key("appended"); w.int(outcome.appended)
            w.key("alreadyStored"); w.int(outcome.alreadyStored)
            w.key("eventCount"); w.int(Int(outcome.eventCount))
            w.endObject()
            return Self.json(w.bytes, status: outcome.appended > 0 ? .created : .ok)
        }
    }

}
