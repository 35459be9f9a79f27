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
            return try await store(batch, started: started)
        }
    }

    /// Stamps a validated batch with its receipt, stores it whole and answers with what was appended (and, for an
    /// import, what was skipped): the one tail of `POST /observations` and `POST /import/…`.
    private func store(_ received: ObservationBatch, started: ContinuousClock.Instant, skipped: [String: Int]? = nil)
        async throws -> Response
    {
        var batch = received
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
        if let skipped {
            w.key("skipped"); w.beginObject()
            for (kind, n) in skipped.sorted(by: { $0.key < $1.key }) { w.key(dynamic: kind); w.int(n) }
            w.endObject()
        }
        w.endObject()
        return Self.json(w.bytes, status: outcome.appended > 0 ? .created : .ok)
    }

    /// `POST /import/stix`, `/import/acled`, `/import/ucdp`: a member's STIX 2.1 bundle, or an ACLED or UCDP GED
    /// CSV, as observations (``Imports``), the caller's member their originator; all or nothing, as
    /// `POST /observations`. `?source=` names the sources.json source (required but for Guarantor's own SCOs).
    func importFile(_ request: Request, _ caller: EventStore.KeyHolder, format: String) async throws -> Response {
        try Self.allowParameters(request, ["source"])
        guard let format = Imports.Format(rawValue: format) else {
            throw APIError(
                .notFound,
                "no import \"\(format)\" (\(Imports.Format.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let started = ContinuousClock.now
        let bytes = try await body(request)
        let mission = state.mission
        var imported: Imports.Imported
        switch Imports.read(
            format, bytes, member: caller.member, source: request.uri.queryParameters.get("source"),
            isKnownSource: mission.sources.contains)
        {
        case .failure(let rejection): throw APIError(.badRequest, "rejected, nothing was stored", lineErrors: rejection)
        case .success(let i): imported = i
        }
        if imported.batch.observations.count > limits.maximumBatch {
            throw APIError(.contentTooLarge, "at most \(limits.maximumBatch) observations a request")
        }
        for i in imported.batch.observations.indices { imported.batch.observations[i].submittedBy = caller.user }
        return try await store(imported.batch, started: started, skipped: imported.skipped)
    }
}
