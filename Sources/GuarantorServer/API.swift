import Crypto
import Foundation
import GuarantorCore
import GuarantorStore
import HTTPTypes
import Hummingbird
import NIOCore
import Prometheus
import ServiceLifecycle

/// The request context: Hummingbird's, and the key holder once authenticated.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who called, when the route needs a key (set by ``KeyMiddleware``).
    public var caller: EventStore.KeyHolder?
    public init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }
}

/// One route of the API: what it is, and the right it needs (`nil`: open to anyone).
public struct APIRoute: Sendable {
    public var method: HTTPRequest.Method
    public var path: String
    public var right: Right?
    public var summary: String

    /// Whether the route needs a key: every route with a right, `/actions` (its right depends on the action) and `/me`.
    public var needsKey: Bool { right != nil || path == "/actions" || path == "/me" }

    /// Whether a request without a key reads it as the public: TLP:CLEAR records only (``Releasability/publicReader``).
    public var isPublic: Bool { right == .readRecords && method == .get && Self.publicPaths.contains(path) }

    /// The routes of the public view: the map, the guarantee's state, the stream. Not the review queue, members'
    /// obligations, drafted statements, comparisons of lines or exports.
    static let publicPaths: Set<String> = Set([
        "/incidents", "/incidents/{id}/observations", "/violations", "/alerts", "/sanctions", "/impediments",
        "/coalition", "/agreement", "/line", "/lines", "/lines/{id}", "/zones", "/sectors", "/stream",
        "/reports/daily/{date}", "/reports/spot/{id}", "/export/stix.json", "/export/acled.csv",
        "/export/incidents.geojson", "/export/violations.geojson",
    ]).union(GuarantorAPI.taxiiPaths)
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
    /// How far after its receipt an observation may be dated (a sender's clock error), seconds.
    public var maximumSkewSeconds = Observation.defaultMaximumSkewSeconds
    /// How far before its receipt an action may be dated (late paperwork: a decision taken in the field and filed on
    /// return), seconds; an action is never dated after its receipt.
    public var maximumBackdatingSeconds = 72 * 3600.0

    public init() {}
}

/// The HTTP API over one mission (DESIGN §3.4). Each resource's handlers are in a file of their own
/// (`API+Observations`, `API+Records`, `API+Mission`, `API+Actions`, `API+Stream`, `API+Integrity`); keys, rights
/// and rate limits are checked by ``KeyMiddleware`` and every error is mapped to HTTP by ``ErrorMiddleware``.
public struct GuarantorAPI: Sendable {
    public let state: MissionState
    public let limits: APILimits
    /// Witness keys and the quorum (integrity.json), and the mission's signing key if this server signs checkpoints.
    public let integrity: IntegrityConfiguration
    let signingKey: Curve25519.Signing.PrivateKey?
    public let merkle: MerkleIndex
    let limiter: RateLimiter
    let metrics: Metrics
    let lineComparisons = LineComparisons()
    /// The server's runs of the log's verification (`/verification`).
    let verifications = Verifications()

    /// The mission directory, for the candidate lines it keeps (lines.json); `nil`: only the agreement's line.
    public let missionDirectory: URL?

    public init(
        state: MissionState, limits: APILimits = APILimits(), integrity: IntegrityConfiguration = .init(),
        signingKey: Curve25519.Signing.PrivateKey? = nil, missionDirectory: URL? = nil
    ) {
        self.missionDirectory = missionDirectory
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
                descriptor: name(
                    "engine_drawing", "seconds", "Time to feed the engine a batch and draw what it changed"),
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
            for (status, gauge) in incidents { gauge.set(Double(statistics.incidents[status.rawValue] ?? 0)) }
        }
    }

    /// Every route, as the OpenAPI document describes them.
    public static let routes: [APIRoute] = [
        APIRoute(method: .get, path: "/health", right: nil, summary: "Liveness and the size of the record"),
        APIRoute(method: .get, path: "/openapi.json", right: nil, summary: "This API, as OpenAPI 3.1"),
        APIRoute(method: .get, path: "/metrics", right: .readOperations, summary: "Prometheus metrics"),
        APIRoute(
            method: .get, path: "/me", right: nil, summary: "The key's holder: member, user, role and its rights"),
        APIRoute(
            method: .post, path: "/observations", right: .submitObservations,
            summary: "File one observation (application/json) or many (application/x-ndjson), all or none"),
        APIRoute(
            method: .post, path: "/import/{format}", right: .submitObservations,
            summary: "Import a STIX 2.1 bundle (stix), an ACLED CSV (acled) or a UCDP GED CSV (ucdp), all or none"),
        APIRoute(
            method: .get, path: "/incidents", right: .readRecords,
            summary: "Incidents, filtered for the reader, oldest first; page on with `after`"),
        APIRoute(method: .get, path: "/incidents/queue", right: .readRecords, summary: "Review queues per status"),
        APIRoute(
            method: .get, path: "/incidents/{id}/observations", right: .readRecords,
            summary: "The observations behind an incident that the reader may read"),
        APIRoute(method: .get, path: "/violations", right: .readRecords, summary: "Findings, filtered for the reader"),
        APIRoute(
            method: .post, path: "/actions", right: nil,
            summary: "An action: review, endorsement, contest, answer to an obligation, delivery, clock"),
        APIRoute(method: .get, path: "/alerts", right: .readRecords, summary: "Alerts of the guarantee"),
        APIRoute(method: .get, path: "/obligations", right: .readRecords, summary: "Members' obligations"),
        APIRoute(method: .get, path: "/statements", right: .readRecords, summary: "Drafted joint statements"),
        APIRoute(
            method: .get, path: "/impediments", right: .readRecords,
            summary:
                "Access denials, restrictions of movement and sensor gaps per kind, party and sector, as the reader may see them"
        ),
        APIRoute(
            method: .get, path: "/sanctions", right: .readRecords,
            summary: "Sanctions packages activated and lifted, with the alert behind each"),
        APIRoute(method: .get, path: "/coalition", right: .readRecords, summary: "Members, pledges, the force"),
        APIRoute(
            method: .get, path: "/agreement", right: .readRecords, summary: "The agreement: parties, zones, rules"),
        APIRoute(method: .get, path: "/line", right: .readRecords, summary: "The ceasefire line as GeoJSON"),
        APIRoute(
            method: .get, path: "/lines", right: .readRecords,
            summary: "The agreement's line and the candidate lines: id, title, source, date, length"),
        APIRoute(
            method: .get, path: "/lines/compare", right: .readRecords,
            summary:
                "Two lines compared (a, b: line ids): lengths, distances, area and settlements that change side, and how the record the caller may read reads under each"
        ),
        APIRoute(method: .get, path: "/lines/{id}", right: .readRecords, summary: "One line as GeoJSON"),
        APIRoute(
            method: .get, path: "/zones", right: .readRecords,
            summary: "The agreement's zones as GeoJSON: each zone's two edges, and what it prohibits"),
        APIRoute(
            method: .get, path: "/sectors", right: .readRecords,
            summary:
                "The mission's sectors as GeoJSON (its sector polygons; stretches of the line for sectors along it)"),
        APIRoute(method: .get, path: "/stream", right: .readRecords, summary: "Live alerts and incident changes (SSE)"),
        APIRoute(
            method: .get, path: "/reports/daily/{date}", right: .readRecords,
            summary:
                "The daily report for a date (YYYY-MM-DD), as the reader may read it: html, md or pdf; issued to the log"
        ),
        APIRoute(
            method: .get, path: "/reports/spot/{id}", right: .readRecords,
            summary: "The spot report on a tripwire alert or an alert on a grave finding; issued to the log"),
        APIRoute(
            method: .get, path: "/export/stix.json", right: .readRecords,
            summary: "A STIX 2.1 bundle of what the reader may read (TLP 2.0 markings), for MISP and OpenCTI"),
        APIRoute(
            method: .get, path: "/export/acled.csv", right: .readRecords,
            summary: "The incidents the reader may see as ACLED-style CSV (ACLED's 31 columns)"),
        APIRoute(
            method: .get, path: "/export/incidents.geojson", right: .readRecords,
            summary: "The incidents the reader may see as a GeoJSON FeatureCollection of points"),
        APIRoute(
            method: .get, path: "/export/violations.geojson", right: .readRecords,
            summary: "The findings the reader may see as a GeoJSON FeatureCollection of points"),
        APIRoute(
            method: .get, path: "/taxii2/", right: .readRecords,
            summary: "TAXII 2.1 discovery (Bearer, or Basic with the key as the password; none: the public)"),
        APIRoute(method: .get, path: "/taxii2/api/", right: .readRecords, summary: "The TAXII 2.1 API root"),
        APIRoute(
            method: .get, path: "/taxii2/api/collections/", right: .readRecords,
            summary: "The caller's one collection: its view of the record as STIX 2.1, read-only"),
        APIRoute(
            method: .get, path: "/taxii2/api/collections/{collection}/", right: .readRecords,
            summary: "The caller's collection"),
        APIRoute(
            method: .get, path: "/taxii2/api/collections/{collection}/objects/", right: .readRecords,
            summary: "STIX objects by date added: added_after, match[id|type|version], limit (≤ 1000), next; audited"),
        APIRoute(
            method: .get, path: "/taxii2/api/collections/{collection}/objects/{object}/", right: .readRecords,
            summary: "One STIX object (its latest version); audited"),
        APIRoute(
            method: .get, path: "/taxii2/api/collections/{collection}/objects/{object}/versions/",
            right: .readRecords, summary: "The versions of one object (the server keeps the latest)"),
        APIRoute(
            method: .get, path: "/taxii2/api/collections/{collection}/manifest/", right: .readRecords,
            summary: "The manifest: id, date_added, version and media type of each object, paged as objects"),
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
            method: .get, path: "/verification", right: .auditLog,
            summary: "The server's last verification of the log (guarantor verify's checks) and the run under way"),
        APIRoute(
            method: .post, path: "/verification", right: .auditLog,
            summary: "Start a verification of the log now (one at a time; 202, then GET /verification)"),
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

    /// The TAXII 2.1 routes (``TAXII``), each of the public view too.
    static let taxiiPaths: Set<String> = Set(routes.map(\.path).filter { $0.hasPrefix("/taxii2/") })

    /// The router with every route.
    public func router() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: ErrorMiddleware(metrics: metrics))
        on(router, .get, "/health") { _, _ in try await health() }
        on(router, .get, "/openapi.json") { _, _ in Self.json(Array(OpenAPIDocument.json.utf8)) }
        on(router, .get, "/metrics") { _, _ in await metricsText() }
        on(router, .get, "/me") { request, caller in
            try Self.noParameters(request); return Self.json(Self.me(caller!))
        }
        on(router, .post, "/observations") { request, caller in try await ingest(request, caller!) }
        on(router, .get, "/incidents") { request, caller in try await incidents(request, caller!) }
        on(router, .get, "/incidents/queue") { request, caller in try await queue(request, caller!) }
        on(router, .get, "/incidents/{id}/observations") { request, caller in
            let parts = request.uri.path.split(separator: "/")
            return try await incidentObservations(request, caller!, id: parts.count >= 2 ? String(parts[1]) : "")
        }
        on(router, .get, "/violations") { request, caller in try await violations(request, caller!) }
        on(router, .post, "/actions") { request, caller in try await act(request, caller!) }
        on(router, .post, "/import/{format}") { request, caller in
            try await importFile(request, caller!, format: String(request.uri.path.split(separator: "/").last ?? ""))
        }
        on(router, .get, "/alerts") { request, caller in try await alerts(request, caller!) }
        on(router, .get, "/obligations") { request, caller in try await obligations(request, caller!) }
        on(router, .get, "/statements") { request, caller in try await statements(request, caller!) }
        on(router, .get, "/sanctions") { request, caller in try await sanctions(request, caller!) }
        on(router, .get, "/impediments") { request, caller in try await impediments(request, caller!) }
        on(router, .get, "/reports/daily/{date}") { request, caller in
            try await dailyReport(request, caller!, date: String(request.uri.path.split(separator: "/").last ?? ""))
        }
        on(router, .get, "/reports/spot/{id}") { request, caller in
            try await spotReport(request, caller!, alert: String(request.uri.path.split(separator: "/").last ?? ""))
        }
        on(router, .get, "/coalition") { request, caller in
            try Self.noParameters(request); return Self.json(Array(await coalitionJSON(for: caller!).utf8))
        }
        on(router, .get, "/agreement") { request, _ in
            try Self.noParameters(request)
            return Self.json(Array(state.mission.agreement.json.prettyPrinted.utf8))
        }
        on(router, .get, "/line") { request, _ in
            try Self.noParameters(request); return Self.json(lineGeoJSON())
        }
        on(router, .get, "/lines") { request, _ in
            try Self.noParameters(request); return Self.json(try linesList())
        }
        on(router, .get, "/lines/compare") { request, caller in Self.json(try await linesCompare(request, caller!)) }
        on(router, .get, "/lines/{id}") { request, _ in
            try Self.noParameters(request)
            return Self.json(try lineById(String(request.uri.path.split(separator: "/").last ?? "")))
        }
        on(router, .get, "/zones") { request, _ in
            try Self.noParameters(request); return Self.json(zonesGeoJSON())
        }
        on(router, .get, "/sectors") { request, _ in
            try Self.noParameters(request); return Self.json(try sectorsGeoJSON())
        }
        Dashboard.add(to: router)
        on(router, .get, "/stream") { request, caller in try await stream(request, caller!) }
        for format in Exports.Format.allCases {
            on(router, .get, "/export/\(format.rawValue)") { request, caller in
                try await exchange(request, caller!, format)
            }
        }
        on(router, .get, "/export/{file}") { request, caller in try await export(request, caller!) }
        for path in Self.taxiiPaths {
            on(router, .get, path) { request, caller in try await taxii(path, request, caller!) }
        }
        on(router, .get, "/checkpoints") { request, _ in
            try Self.noParameters(request); return try checkpointList()
        }
        on(router, .post, "/checkpoints") { _, _ in try await makeCheckpoint() }
        on(router, .get, "/checkpoints/{size}") { request, _ in try checkpoint(request) }
        on(router, .post, "/checkpoints/{size}/cosignatures") { request, caller in
            try await cosign(request, caller!)
        }
        on(router, .get, "/verification") { request, _ in
            try Self.noParameters(request); return await verification()
        }
        on(router, .post, "/verification") { request, _ in
            try Self.noParameters(request); return try await startVerification()
        }
        on(router, .get, "/proofs/inclusion") { request, _ in try inclusionProof(request) }
        on(router, .get, "/proofs/consistency") { request, _ in try consistencyProof(request) }
        on(router, .get, "/log/{sequence}") { request, caller in try logEntry(request, caller!) }
        return router
    }

    /// Registers a route from ``routes`` behind its key check.
    private func on(
        _ router: Router<APIContext>, _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, EventStore.KeyHolder?) async throws -> Response
    ) {
        let route = Self.routes.first { $0.method == method && $0.path == path }!
        let routerPath = RouterPath(
            stringLiteral: path.replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: ""))
        router.group()
            .add(middleware: KeyMiddleware(route: route, store: state.store, limiter: limiter, limits: limits))
            .on(routerPath, method: method) { request, context in try await handler(request, context.caller) }
    }

    private func health() async throws -> Response {
        let observations = await state.observationCount()
        var w = JSONWriter()
        w.beginObject()
        w.key("status"); w.string("ok")
        w.key("mission"); w.string(state.mission.agreement.id)
        w.key("observations"); w.int(observations)
        w.endObject()
        return Self.json(w.bytes)
    }

    private func metricsText() async -> Response {
        await metrics.update(from: state)
        var bytes: [UInt8] = []
        metrics.registry.emit(into: &bytes)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func body(_ request: Request) async throws -> [UInt8] {
        do {
            var body = try await request.body.collect(upTo: limits.maximumBodyBytes)
            return body.readBytes(length: body.readableBytes) ?? []
        } catch {
            throw APIError(.contentTooLarge, "the body is larger than \(limits.maximumBodyBytes) bytes")
        }
    }

    /// Appends an audit record (who, what, when) when a reader received restricted records (AMBER or above) or an
    /// export.
    func audit(_ caller: EventStore.KeyHolder, _ endpoint: String, records: Int) throws {
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

    // MARK: Parameters

    /// Refuses query parameters a route does not know: a filter that is not applied must not look applied.
    static func allowParameters(_ request: Request, _ known: [String]) throws {
        for (name, _) in request.uri.queryParameters where !known.contains(String(name)) {
            throw APIError(
                .badRequest,
                "unknown query parameter \"\(name)\""
                    + (known.isEmpty ? " (this route takes none)" : " (known: \(known.joined(separator: ", ")))"))
        }
    }

    static func noParameters(_ request: Request) throws { try allowParameters(request, []) }

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
}
