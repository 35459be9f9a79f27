import Crypto
import Foundation
import GuarantorCore
import GuarantorStore
import HTTPTypes
import Hummingbird
import NIOCore
import Prometheus
import ServiceLifecycle

/// The request context: Hummingbird's, nothing added.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }
}

/// One route of the API: what it is, and the right it needs (`nil`: open to anyone).
public struct APIRoute: Sendable {
    public var method: HTTPRequest.Method
    public var path: String
    public var right: Right?
    public var summary: String
}

/// Limits of the API.
public struct APILimits: Sendable {
    /// Largest request body, bytes (413 beyond).
    public var maximumBodyBytes = 16 * 1024 * 1024
    /// Most observations in one bulk request (413 beyond).
    public var maximumBatch = 100_000
    /// Requests per second per key, and the burst allowed (429 beyond, with Retry-After).
    public var requestsPerSecond = 200.0
    public var burst = 400.0

    public init() {}
}

/// The HTTP API over one mission (DESIGN §3.4).
public struct GuarantorAPI: Sendable {
    public let state: MissionState
    public let limits: APILimits
    /// Witness keys and the quorum (integrity.json), and the mission's signing key if this server signs checkpoints.
    public let integrity: IntegrityConfiguration
    let signingKey: Curve25519.Signing.PrivateKey?
    public let merkle: MerkleIndex
    let limiter: RateLimiter
    let metrics: Metrics

    public init(
        state: MissionState, limits: APILimits = APILimits(), integrity: IntegrityConfiguration = .init(),
        signingKey: Curve25519.Signing.PrivateKey? = nil
    ) {
        self.state = state
        self.limits = limits
        self.integrity = integrity
        self.signingKey = signingKey
        merkle = MerkleIndex(store: state.store)
        limiter = RateLimiter(perSecond: limits.requestsPerSecond, burst: limits.burst)
        metrics = Metrics()
    }

    /// Prometheus metrics: ingest counts, queue depths, engine latency.
    final class Metrics: Sendable {
        let registry = PrometheusCollectorRegistry()
        let observations: Counter
        let requests: Counter
        let refused: Counter
        let ingestSeconds: DurationHistogram
        let drawingSeconds: DurationHistogram
        let pending: Gauge
        let incidents: [IncidentStatus: Gauge]

        init() {
            func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
                MetricNameDescriptor(namespace: "guarantor", metricName: metric, unitName: unit, helpText: help)
            }
            observations = registry.makeCounter(
                descriptor: name("observations_ingested", "total", "Observations appended to the log"))
            requests = registry.makeCounter(descriptor: name("requests", "total", "API requests answered"))
            refused = registry.makeCounter(descriptor: name("requests_refused", "total", "Requests answered 4xx"))
            ingestSeconds = registry.makeDurationHistogram(
                descriptor: name(
                    "ingest_duration", "seconds", "Time to store and process an ingest request, engine included"),
                buckets: [
                    .milliseconds(1), .milliseconds(5), .milliseconds(20), .milliseconds(50), .milliseconds(200),
                    .seconds(1), .seconds(5),
                ])
            drawingSeconds = registry.makeDurationHistogram(
                descriptor: name("engine_drawing", "seconds", "Time to feed the engine and draw every result again"),
                buckets: [
                    .milliseconds(10), .milliseconds(50), .milliseconds(200), .seconds(1), .seconds(5), .seconds(20),
                ])
            pending = registry.makeGauge(
                descriptor: name("observations_pending", "", "Observations acknowledged, not yet in the results"))
            let registry = registry
            incidents = Dictionary(
                uniqueKeysWithValues: IncidentStatus.allCases.map {
                    (
                        $0,
                        registry.makeGauge(
                            descriptor: name("incidents", "", "Incidents per status (the review queues)"),
                            labels: [("status", $0.rawValue)])
                    )
                })
        }

        /// Brings the gauges and the drawing histogram up to date (at each scrape).
        func update(from state: MissionState) async {
            let statistics = await state.takeStatistics()
            for d in statistics.drawings { drawingSeconds.record(d) }
            pending.set(Double(statistics.pending))
            for (status, gauge) in incidents { gauge.set(Double(statistics.incidents[status] ?? 0)) }
        }
    }

    /// Every route, as the OpenAPI document describes them.
    public static let routes: [APIRoute] = [
        APIRoute(method: .get, path: "/health", right: nil, summary: "Liveness and the size of the record"),
        APIRoute(method: .get, path: "/openapi.json", right: nil, summary: "This API, as OpenAPI 3.1"),
        APIRoute(method: .get, path: "/metrics", right: .readOperations, summary: "Prometheus metrics"),
        APIRoute(
            method: .post, path: "/observations", right: .submitObservations,
            summary: "File one observation (application/json) or many (application/x-ndjson), all or none"),
        APIRoute(method: .get, path: "/incidents", right: .readRecords, summary: "Incidents, filtered for the reader"),
        APIRoute(method: .get, path: "/incidents/queue", right: .readRecords, summary: "Review queues per status"),
        APIRoute(method: .get, path: "/violations", right: .readRecords, summary: "Findings, filtered for the reader"),
        APIRoute(
            method: .post, path: "/actions", right: nil,
            summary: "An action: review, endorsement, contest, answer to an obligation, delivery, clock"),
        APIRoute(method: .get, path: "/alerts", right: .readRecords, summary: "Alerts of the guarantee"),
        APIRoute(method: .get, path: "/obligations", right: .readRecords, summary: "Members' obligations"),
        APIRoute(method: .get, path: "/statements", right: .readRecords, summary: "Drafted joint statements"),
        APIRoute(method: .get, path: "/coalition", right: .readRecords, summary: "Members, pledges, the force"),
        APIRoute(
            method: .get, path: "/agreement", right: .readRecords, summary: "The agreement: parties, zones, rules"),
        APIRoute(method: .get, path: "/line", right: .readRecords, summary: "The ceasefire line as GeoJSON"),
        APIRoute(
            method: .get, path: "/zones", right: .readRecords,
            summary: "The agreement's zones as GeoJSON: each zone's two edges, and what it prohibits"),
        APIRoute(method: .get, path: "/stream", right: .readRecords, summary: "Live alerts and incident changes (SSE)"),
        APIRoute(
            method: .get, path: "/export/{file}", right: .readOperations,
            summary: "A replay file (incidents, violations, alerts, obligations, statements), filtered, audited"),
        APIRoute(
            method: .get, path: "/checkpoints", right: .auditLog,
            summary: "Signed checkpoints: the latest in full, and every size with its cosignatures"),
        APIRoute(
            method: .post, path: "/checkpoints", right: .makeCheckpoint, summary: "Sign a checkpoint of the log now"),
        APIRoute(
            method: .get, path: "/checkpoints/{size}", right: .auditLog,
            summary: "One checkpoint: body, the mission's signature, cosignatures"),
        APIRoute(
            method: .post, path: "/checkpoints/{size}/cosignatures", right: .cosign,
            summary: "A witness's cosignature of a checkpoint, for the key's member"),
        APIRoute(
            method: .get, path: "/proofs/inclusion", right: .auditLog,
            summary: "RFC 9162 inclusion proof of event `sequence` in the tree of `size` events"),
        APIRoute(
            method: .get, path: "/proofs/consistency", right: .auditLog,
            summary: "RFC 9162 consistency proof between the trees of `from` and `to` events"),
        APIRoute(
            method: .get, path: "/log/{sequence}", right: .auditLog,
            summary: "One event of the log, its leaf hash; redacted fields and records the reader may not see withheld"),
    ]

    /// The router with every route.
    public func router() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        on(router, .get, "/health") { _, _ in
            let snapshot = await state.snapshot
            var w = JSONWriter()
            w.beginObject()
            w.key("status"); w.string("ok")
            w.key("mission"); w.string(state.mission.agreement.id)
            w.key("observations"); w.int(snapshot.observationCount)
            w.endObject()
            return Self.json(w.bytes)
        }
        on(router, .get, "/openapi.json") { _, _ in Self.json(Array(OpenAPIDocument.json.utf8)) }
        on(router, .get, "/metrics") { _, _ in
            await metrics.update(from: state)
            var bytes: [UInt8] = []
            metrics.registry.emit(into: &bytes)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        on(router, .post, "/observations") { request, caller in try await ingest(request, caller!) }
        on(router, .get, "/incidents") { request, caller in try await incidents(request, caller!) }
        on(router, .get, "/incidents/queue") { _, caller in await queue(caller!) }
        on(router, .get, "/violations") { request, caller in try await violations(request, caller!) }
        on(router, .post, "/actions") { request, caller in try await act(request, caller!) }
        on(router, .get, "/alerts") { _, caller in await guaranteeList(.alerts, caller!) }
        on(router, .get, "/obligations") { request, caller in
            await guaranteeList(.obligations(member: request.uri.queryParameters.get("member")), caller!)
        }
        on(router, .get, "/statements") { _, caller in await guaranteeList(.statements, caller!) }
        on(router, .get, "/coalition") { _, _ in Self.json(Array(coalitionJSON().utf8)) }
        on(router, .get, "/agreement") { _, _ in Self.json(Array(state.mission.agreement.json.prettyPrinted.utf8)) }
        on(router, .get, "/line") { _, _ in Self.json(lineGeoJSON()) }
        on(router, .get, "/zones") { _, _ in Self.json(zonesGeoJSON()) }
        on(router, .get, "/stream") { request, caller in try await stream(request, caller!) }
        on(router, .get, "/export/{file}") { request, caller in try await export(request, caller!) }
        on(router, .get, "/checkpoints") { _, _ in try checkpointList() }
        on(router, .post, "/checkpoints") { _, _ in try await makeCheckpoint() }
        on(router, .get, "/checkpoints/{size}") { request, _ in try checkpoint(request) }
        on(router, .post, "/checkpoints/{size}/cosignatures") { request, caller in
            try await cosign(request, caller!)
        }
        on(router, .get, "/proofs/inclusion") { request, _ in try inclusionProof(request) }
        on(router, .get, "/proofs/consistency") { request, _ in try consistencyProof(request) }
        on(router, .get, "/log/{sequence}") { request, caller in try logEntry(request, caller!) }
        return router
    }

    /// Registers a route from ``routes``: authentication, the right, the rate limit, and errors as JSON.
    private func on(
        _ router: Router<APIContext>, _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, EventStore.KeyHolder?) async throws -> Response
    ) {
        let route = Self.routes.first { $0.method == method && $0.path == path }!
        let routerPath = RouterPath(
            stringLiteral: path.replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: ""))
        router.on(routerPath, method: method) { request, _ -> Response in
            metrics.requests.increment()
            let response: Response
            do {
                var caller: EventStore.KeyHolder?
                if route.right != nil || path == "/actions" {
                    caller = try await authenticate(request)
                    if let right = route.right, Role(rawValue: caller!.role)?.rights.contains(right) != true {
                        throw APIError(.forbidden, "the role \(caller!.role) cannot \(right.rawValue)")
                    }
                    if let wait = limiter.take(caller!.id) {
                        throw APIError(
                            .tooManyRequests,
                            "more than \(Int(limits.requestsPerSecond)) requests a second for this key",
                            retryAfter: Int(wait.rounded(.up)) + 0)
                    }
                }
                response = try await handler(request, caller)
            } catch let error as APIError {
                response = error.response
            } catch let error as StoreError {
                response = APIError(.conflict, error.message).response
            } catch {
                // No stack traces or internal paths: a generic message, and the log says the rest.
                response = APIError(.internalServerError, "the request could not be processed").response
            }
            if response.status.code >= 400 && response.status.code < 500 { metrics.refused.increment() }
            return response
        }
    }

    private func authenticate(_ request: Request) async throws -> EventStore.KeyHolder {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError(.unauthorized, "an API key is required: Authorization: Bearer gk_…")
        }
        let key = String(header.dropFirst("Bearer ".count))
        guard let holder = try state.store.keyHolder(hash: APIKeys.hash(key)) else {
            throw APIError(.unauthorized, "unknown API key")
        }
        return holder
    }

    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private func body(_ request: Request) async throws -> [UInt8] {
        do {
            var body = try await request.body.collect(upTo: limits.maximumBodyBytes)
            return body.readBytes(length: body.readableBytes) ?? []
        } catch {
            throw APIError(.contentTooLarge, "the body is larger than \(limits.maximumBodyBytes) bytes")
        }
    }

    /// Appends an audit record (who, what, when) when a reader received restricted records (AMBER or above) or an
    /// export.
    private func audit(_ caller: EventStore.KeyHolder, _ endpoint: String, records: Int) throws {
        var w = JSONWriter()
        w.beginObject()
        w.key("at"); w.timestamp(WallClock.now())
        w.key("key"); w.string(caller.id)
        w.key("member"); w.string(caller.member)
        w.key("user"); w.string(caller.user)
        w.key("endpoint"); w.string(endpoint)
        w.key("records"); w.int(records)
        w.endObject()
        try state.store.audit(w.bytes)
    }

    // MARK: Observations

    private func ingest(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
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
            // Who filed it comes from the key, never from the body.
            for i in batch.observations.indices {
                batch.observations[i].submittedBy = caller.user
                batch.observations[i].originator = caller.member
            }
            let outcome = try await state.ingest(batch.observations)
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

    // MARK: Reading

    private func incidents(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        let q = request.uri.queryParameters
        let status = try q.get("status").map { s in
            guard let status = IncidentStatus(rawValue: s) else {
                throw APIError(.badRequest, "status: \"\(s)\" is not one of \(IncidentStatus.allCases.map(\.rawValue))")
            }
            return status
        }
        let from = try q.get("from").map { try Self.time($0, "from") }
        let to = try q.get("to").map { try Self.time($0, "to") }
        let bbox = try q.get("bbox").map(Self.bbox)
        let sector = q.get("sector")
        let limit = q.get("limit", as: Int.self) ?? 1_000
        guard (1...100_000).contains(limit) else { throw APIError(.badRequest, "limit: must be in 1…100000") }
        let visible = await state.visibleResults(to: caller.member)
        let mission = state.mission
        let chosen = visible.incidents.filter { i in
            (status == nil || i.status == status) && (from == nil || i.end >= from!) && (to == nil || i.start <= to!)
                && (sector == nil
                    || (i.classification.sector >= 0 && mission.sectors.names[Int(i.classification.sector)] == sector))
                && (bbox == nil || bbox!.contains(i.location.point))
        }.prefix(limit)
        if visible.restrictedShown > 0 { try audit(caller, "/incidents", records: visible.restrictedShown) }
        var w = JSONWriter()
        w.beginObject()
        w.key("incidents")
        w.beginArray()
        for i in chosen { mission.incidentLine(i, into: &w) }
        w.endArray()
        w.endObject()
        return Self.json(w.bytes)
    }

    private func queue(_ caller: EventStore.KeyHolder) async -> Response {
        let visible = await state.visibleResults(to: caller.member)
        let queues = IncidentReview.queues(visible.incidents)
        var w = JSONWriter()
        w.beginObject()
        for status in IncidentStatus.allCases {
            w.key(dynamic: status.rawValue)
            w.beginArray()
            for id in queues[status] ?? [] { w.string(id) }
            w.endArray()
        }
        w.endObject()
        return Self.json(w.bytes)
    }

    private func violations(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        let status = request.uri.queryParameters.get("status")
        let visible = await state.visibleResults(to: caller.member)
        if visible.restrictedShown > 0 { try audit(caller, "/violations", records: visible.restrictedShown) }
        var w = JSONWriter()
        w.beginObject()
        w.key("violations")
        w.beginArray()
        for v in visible.violations where status == nil || v.incidentStatus.rawValue == status {
            Replay.violationLine(v, into: &w)
        }
        w.endArray()
        w.endObject()
        return Self.json(w.bytes)
    }

    enum GuaranteeList { case alerts, obligations(member: String?), statements }

    private func guaranteeList(_ list: GuaranteeList, _ caller: EventStore.KeyHolder) async -> Response {
        let g = await state.snapshot.guarantee
        let visible = Set(await state.visibleResults(to: caller.member).violations.map(\.id))
        var w = JSONWriter()
        w.beginObject()
        switch list {
        case .alerts:
            w.key("alerts")
            w.beginArray()
            let incidentOf = await state.incidentOfFinding()
            for a in g?.alerts ?? [] {
                Replay.alertLine(Self.shown(a, isReadable: visible.contains, incidentOf: { incidentOf[$0] }), into: &w)
            }
        case .obligations(let member):
            w.key("obligations")
            w.beginArray()
            for o in g?.obligations ?? [] where member == nil || o.member == member {
                Replay.obligationLine(o, into: &w)
            }
        case .statements:
            w.key("statements")
            w.beginArray()
            for s in g?.statements ?? [] {
                w.beginObject()
                w.key("id"); w.string(s.id)
                w.key("alertId"); w.string(s.alertId)
                w.key("signedBy"); w.beginArray(); for m in s.signedBy { w.string(m) }; w.endArray()
                w.key("declinedBy"); w.beginArray(); for m in s.declinedBy { w.string(m) }; w.endArray()
                // The text states verified findings; a reader sees it only if it may read every one of them.
                w.key("markdown")
                if s.violationIds.allSatisfy(visible.contains) { w.string(s.markdown) } else { w.null() }
                w.endObject()
            }
        }
        w.endArray()
        w.endObject()
        return Self.json(w.bytes)
    }

    private func coalitionJSON() -> String {
        guard let c = state.mission.coalition else { return #"{"members":[]}"# }
        let deployed = c.deployed(at: WallClock.now())
        let value: JSONValue = .object([
            "members": .array(
                c.members.map { .object(["id": .string($0.id), "name": .string($0.name), "role": .string($0.role)]) }),
            "pledges": .array(
                c.pledges.map {
                    .object(["id": .string($0.id), "member": .string($0.member), "pillar": .string($0.pillar.rawValue)])
                }),
            "deterrenceForce": .object([
                "ceiling": .number(Double(c.ceiling)),
                "pledged": .object(c.contributions.mapValues { .number(Double($0)) }),
                "deployed": .object(deployed.mapValues { .number(Double($0)) }),
            ]),
            "protectedSites": .array(
                c.sites.map {
                    .object([
                        "id": .string($0.id), "kind": .string($0.kind.rawValue), "name": .string($0.name),
                        "location": .object(["lon": .number($0.location.lon), "lat": .number($0.location.lat)]),
                        "radiusMeters": .number($0.radiusMeters),
                    ])
                }),
        ])
        return value.prettyPrinted
    }

    private func lineGeoJSON() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("type"); w.string("FeatureCollection")
        w.key("features")
        w.beginArray()
        for part in state.mission.line.parts {
            w.beginObject()
            w.key("type"); w.string("Feature")
            w.key("properties"); w.beginObject(); w.endObject()
            w.key("geometry")
            w.beginObject()
            w.key("type"); w.string("LineString")
            w.key("coordinates")
            w.beginArray()
            for p in part {
                w.beginArray(); w.number(p.lon); w.number(p.lat); w.endArray()
            }
            w.endArray()
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// One Feature per zone: a MultiLineString of its left and right edges (each part of the line moved sideways by
    /// the half-width), with the zone's id, half-width and prohibitions as properties.
    private func zonesGeoJSON() -> [UInt8] {
        let agreement = state.mission.agreement
        let line = state.mission.line
        var w = JSONWriter()
        w.beginObject()
        w.key("type"); w.string("FeatureCollection")
        w.key("features")
        w.beginArray()
        for zone in agreement.zones {
            w.beginObject()
            w.key("type"); w.string("Feature")
            w.key("id"); w.string(zone.id)
            w.key("properties")
            w.beginObject()
            w.key("id"); w.string(zone.id)
            w.key("halfWidthMeters"); w.number(zone.halfWidthMeters)
            w.key("prohibitedActivities")
            w.beginArray(); for a in zone.prohibitedActivities { w.string(a.rawValue) }; w.endArray()
            w.key("prohibitedWeaponClasses")
            w.beginArray(); for c in zone.prohibitedWeaponClasses { w.string(c.rawValue) }; w.endArray()
            w.endObject()
            w.key("geometry")
            w.beginObject()
            w.key("type"); w.string("MultiLineString")
            w.key("coordinates")
            w.beginArray()
            for edge in line.offset(by: zone.halfWidthMeters) + line.offset(by: -zone.halfWidthMeters) {
                w.beginArray()
                for p in edge { w.beginArray(); w.number(p.lon); w.number(p.lat); w.endArray() }
                w.endArray()
            }
            w.endArray()
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    // MARK: Actions

    private func act(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
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

    // MARK: Stream and export

    private func stream(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        let last = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int($0) }
        // ?events=alert or ?events=incident: only those (default: both).
        let only = request.uri.queryParameters.get("events")
        guard only == nil || only == "alert" || only == "incident" else {
            throw APIError(.badRequest, "events: \"\(only!)\" is not alert or incident")
        }
        let events = state.stream.subscribe(after: last, only: only)
        let state = self.state
        let member = caller.member
        let audit = { @Sendable (endpoint: String, records: Int) throws in
            try self.audit(caller, endpoint, records: records)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: ": connected\n\n"))
                // Ends when the client goes (a write fails) or the server shuts down gracefully.
                receiving: for await (id, event) in events {
                    var w = JSONWriter()
                    switch event {
                    case .heartbeat:
                        if Task.isCancelled || Task.isShuttingDownGracefully { break receiving }
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        continue
                    case .alert(let alert, let incidents):
                        var readable: Set<String> = []
                        for id in alert.violationIds {
                            guard let incident = incidents[id] else {
                                readable.insert(id)
                                continue
                            }
                            if await state.visible(incident, to: member) != nil { readable.insert(id) }
                        }
                        let shown = Self.shown(alert, isReadable: readable.contains, incidentOf: { incidents[$0]?.id })
                        Replay.alertLine(shown, into: &w)
                    case .incident(let incident):
                        guard let (part, restricted) = await state.visible(incident, to: member) else { continue }
                        if restricted { try audit("/stream", 1) }
                        state.mission.incidentLine(part, into: &w)
                    }
                    try await writer.write(
                        ByteBuffer(
                            string:
                                "id: \(id)\nevent: \(event.name)\ndata: \(String(decoding: w.bytes, as: UTF8.self))\n\n"
                        ))
                }

                try await writer.finish(nil)
            })
    }

    private func export(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        let file = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
        let visible = await state.visibleResults(to: caller.member)
        let (incidents, violations) = (visible.incidents, visible.violations)
        let g = await state.snapshot.guarantee
        var w = JSONWriter()
        switch file {
        case "incidents.ndjson": for i in incidents { state.mission.incidentLine(i, into: &w); w.newline() }
        case "violations.ndjson": for v in violations { Replay.violationLine(v, into: &w); w.newline() }
        case "alerts.ndjson":
            let readable = Set(violations.map(\.id))
            let incidentOf = await state.incidentOfFinding()
            for a in g?.alerts ?? [] {
                Replay.alertLine(Self.shown(a, isReadable: readable.contains, incidentOf: { incidentOf[$0] }), into: &w)
                w.newline()
            }
        case "obligations.ndjson": for o in g?.obligations ?? [] { Replay.obligationLine(o, into: &w); w.newline() }
        default:
            throw APIError(
                .notFound,
                "no export \"\(file)\" (incidents.ndjson, violations.ndjson, alerts.ndjson, obligations.ndjson)")
        }
        try audit(caller, "/export/\(file)", records: w.bytes.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 })
        return Response(
            status: .ok, headers: [.contentType: "application/x-ndjson"],
            body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
    }

    /// An alert as a reader sees it: only the findings it may read, and no id of an incident it may not (an alert
    /// itself is for every member: a tripwire alert resting on a RED report still reaches all of them).
    static func shown(_ alert: Alert, isReadable: (String) -> Bool, incidentOf: (String) -> String?) -> Alert {
        var shown = alert
        shown.violationIds = []
        for id in alert.violationIds {
            if isReadable(id) {
                shown.violationIds.append(id)
            } else if let incident = incidentOf(id) {
                shown.detail = shown.detail.replacingOccurrences(of: incident, with: "(withheld)")
            }
        }
        return shown
    }

    // MARK: Integrity

    private func signedJSON(_ signed: SignedCheckpoint) -> JSONValue {
        guard case .object(var members) = signed.json else { return signed.json }
        members["published"] = .bool(signed.cosignatures.count >= integrity.quorum)
        return .object(members)
    }

    private func checkpointList() throws -> Response {
        let all = try state.store.checkpoints()
        let value: JSONValue = .object([
            "latest": all.last.map { signedJSON($0.signed) } ?? .null,
            "quorum": .number(Double(integrity.quorum)),
            "checkpoints": .array(
                all.map {
                    .object([
                        "size": .number(Double($0.signed.checkpoint.size)),
                        "cosignedBy": .array($0.signed.cosignatures.keys.sorted().map { .string($0) }),
                    ])
                }),
        ])
        return Self.json(Array(value.prettyPrinted.utf8))
    }

    private func makeCheckpoint() async throws -> Response {
        guard let signingKey else {
            throw APIError(.conflict, "this server has no signing key (guarantor serve --signing-key FILE)")
        }
        let signed = try await state.checkpoint(key: signingKey, index: merkle, time: WallClock.now())
        return Self.json(Array(signedJSON(signed).prettyPrinted.utf8), status: .created)
    }

    private func storedCheckpoint(_ request: Request) throws -> SignedCheckpoint {
        let text = request.uri.path.split(separator: "/").dropFirst().first.map(String.init) ?? ""
        guard let size = Int(text), size >= 0 else {
            throw APIError(.badRequest, "size: \"\(text)\" is not a whole number")
        }
        guard let stored = try state.store.checkpoints(size: size).first else {
            throw APIError(.notFound, "no checkpoint of size \(size)")
        }
        return stored.signed
    }

    private func checkpoint(_ request: Request) throws -> Response {
        Self.json(Array(signedJSON(try storedCheckpoint(request)).prettyPrinted.utf8))
    }

    private func cosign(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        let signed = try storedCheckpoint(request)
        guard let key = integrity.witnesses[caller.member] else {
            throw APIError(.forbidden, "\(caller.member) has no witness key in integrity.json")
        }
        let body = try await body(request)
        let signature: [UInt8]
        do {
            let f = try JSONFields(try JSONValue.parse(body))
            try f.rejectUnknown(["signature"])
            guard let bytes = Data(base64Encoded: try f.string("signature")) else {
                throw FieldError(path: "signature", reason: "not base64")
            }
            signature = Array(bytes)
        } catch let error as FieldError {
            throw APIError(.badRequest, error.description)
        } catch {
            throw APIError(.badRequest, "\(error)")
        }
        guard SigningKeys.isValid(signature, of: signed.checkpoint.body, by: key) else {
            throw APIError(
                .unprocessableContent,
                "not \(caller.member)'s witness signature of checkpoint \(signed.checkpoint.size)")
        }
        try state.store.addCosignature(size: signed.checkpoint.size, member: caller.member, signature: signature)
        let updated = try state.store.checkpoints(size: signed.checkpoint.size).first!.signed
        return Self.json(Array(signedJSON(updated).prettyPrinted.utf8), status: .created)
    }

    /// A whole-number query parameter in a range.
    static func integer(_ request: Request, _ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let text = request.uri.queryParameters.get(name) else {
            throw APIError(.badRequest, "\(name) is required")
        }
        guard let value = Int(text), range.contains(value) else {
            throw APIError(.badRequest, "\(name): must be a whole number in \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    private func inclusionProof(_ request: Request) throws -> Response {
        let tree = try merkle.current()
        guard tree.size > 0 else { throw APIError(.notFound, "the log is empty") }
        let size = try Self.integer(request, "size", in: 1...tree.size)
        let sequence = try Self.integer(request, "sequence", in: 1...size)
        let value: JSONValue = .object([
            "sequence": .number(Double(sequence)), "size": .number(Double(size)),
            "root": .string(EventChain.hex(tree.root(size: size))),
            "proof": .array(tree.inclusionProof(index: sequence - 1, size: size).map { .string(EventChain.hex($0)) }),
        ])
        return Self.json(Array(value.prettyPrinted.utf8))
    }

    private func consistencyProof(_ request: Request) throws -> Response {
        let tree = try merkle.current()
        let to = try Self.integer(request, "to", in: 0...tree.size)
        let from = try Self.integer(request, "from", in: 0...to)
        let value: JSONValue = .object([
            "from": .number(Double(from)), "to": .number(Double(to)),
            "proof": .array(tree.consistencyProof(old: from, new: to).map { .string(EventChain.hex($0)) }),
        ])
        return Self.json(Array(value.prettyPrinted.utf8))
    }

    private func logEntry(_ request: Request, _ caller: EventStore.KeyHolder) throws -> Response {
        let text = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
        guard let sequence = Int64(text), sequence >= 1 else {
            throw APIError(.badRequest, "sequence: \"\(text)\" is not a whole number ≥ 1")
        }
        guard let event = try state.store.event(sequence: sequence) else {
            throw APIError(.notFound, "no event \(sequence)")
        }
        var members: [String: JSONValue] = [
            "sequence": .number(Double(sequence)), "kind": .string(event.kind),
            "leafHash": .string(EventChain.hex(event.leafHash)),
        ]
        var payload = try JSONValue.parse(event.payload)
        let hidden = try state.store.redactions()[sequence] ?? []
        if event.kind == EventKind.observation.rawValue,
            let o = try? Observation(json: payload, isKnownSource: { _ in true }),
            !Releasability.canRead(member: caller.member, o)
        {
            members["withheld"] = .string("an observation this member may not read (\(o.tlp?.rawValue ?? "GREEN"))")
        } else {
            if case .object(var fields) = payload {
                for field in hidden { fields[field] = nil }
                payload = .object(fields)
            }
            members["payload"] = payload
            members["redacted"] = .array(hidden.sorted().map { .string($0) })
        }
        return Self.json(Array(JSONValue.object(members).prettyPrinted.utf8))
    }

    // MARK: Parameters

    static func time(_ text: String, _ name: String) throws -> Timestamp {
        guard let t = Timestamp(rfc3339: text) else {
            throw APIError(.badRequest, "\(name): \"\(text)\" is not RFC 3339")
        }
        return t
    }

    struct BoundingBox {
        var minLon, minLat, maxLon, maxLat: Double
        func contains(_ p: GeoPoint) -> Bool {
            p.lon >= minLon && p.lon <= maxLon && p.lat >= minLat && p.lat <= maxLat
        }
    }

    static func bbox(_ text: String) throws -> BoundingBox {
        let parts = text.split(separator: ",").compactMap { Double($0) }
        guard parts.count == 4, parts[0] <= parts[2], parts[1] <= parts[3], parts.allSatisfy(\.isFinite) else {
            throw APIError(.badRequest, "bbox: expected minLon,minLat,maxLon,maxLat")
        }
        return BoundingBox(minLon: parts[0], minLat: parts[1], maxLon: parts[2], maxLat: parts[3])
    }
}

/// A refusal with a status and a message that says what was wrong (never a stack trace or a path).
struct APIError: Error {
    var status: HTTPResponse.Status
    var message: String
    var lineErrors: NDJSON.Rejection?
    var retryAfter: Int?

    init(_ status: HTTPResponse.Status, _ message: String, lineErrors: NDJSON.Rejection? = nil, retryAfter: Int? = nil)
    {
        self.status = status
        self.message = message
        self.lineErrors = lineErrors
        self.retryAfter = retryAfter
    }

    var response: Response {
        var w = JSONWriter()
        w.beginObject()
        w.key("error"); w.string(message)
        if let lineErrors {
            w.key("errors")
            w.beginArray()
            for e in lineErrors.errors {
                w.beginObject()
                w.key("line"); w.int(e.line)
                w.key("field"); w.string(e.field)
                w.key("reason"); w.string(e.reason)
                w.endObject()
            }
            w.endArray()
            w.key("totalErrors"); w.int(lineErrors.totalErrors)
        }
        w.endObject()
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(max(retryAfter, 1)) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
    }
}
