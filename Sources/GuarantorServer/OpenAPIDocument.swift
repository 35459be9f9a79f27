import GuarantorCore

/// The OpenAPI 3.1 document served at `/openapi.json`, built from ``GuarantorAPI/routes`` so that every route is in
/// it; a test checks the reverse and the shapes of the responses.
enum OpenAPIDocument {
    static let json: String = document.prettyPrinted

    private static func object(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        var schema: [String: JSONValue] = ["type": .string("object"), "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        return .object(schema)
    }

    private static func type(_ name: String, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        .object(extra.merging(["type": .string(name)]) { a, _ in a })
    }

    private static func ref(_ name: String) -> JSONValue { .object(["$ref": .string("#/components/schemas/\(name)")]) }
    private static func array(_ items: JSONValue) -> JSONValue { .object(["type": .string("array"), "items": items]) }
    private static func enumeration(_ values: [String]) -> JSONValue {
        .object(["type": .string("string"), "enum": .array(values.map { .string($0) })])
    }
    private static let nullableString: JSONValue = .object(["type": .array([.string("string"), .string("null")])])
    private static let time = type("string", ["format": .string("date-time")])
    private static let point = object([
        "lon": type("number"), "lat": type("number"), "uncertaintyMeters": type("number"),
    ])

    static let schemas: [String: JSONValue] = [
        "Error": object(
            [
                "error": type("string"),
                "errors": array(object(["line": type("integer"), "field": type("string"), "reason": type("string")])),
                "totalErrors": type("integer"),
            ],
            required: ["error"]),
        "Health": object(
            ["status": type("string"), "mission": type("string"), "observations": type("integer")], required: ["status"]
        ),
        "IngestResult": object(
            ["appended": type("integer"), "alreadyStored": type("integer"), "eventCount": type("integer")],
            required: ["appended", "alreadyStored", "eventCount"]),
        "Observation": object(
            [
                "id": type("string", ["minLength": .number(1), "maxLength": .number(200)]), "source": type("string"),
                "observedAt": time, "kind": enumeration(ObservationKind.allCases.map(\.rawValue)),
                "location": object(
                    [
                        "lon": type("number", ["minimum": .number(-180), "maximum": .number(180)]),
                        "lat": type("number", ["minimum": .number(-90), "maximum": .number(90)]),
                        "uncertaintyMeters": type("number", ["minimum": .number(0), "maximum": .number(1_000_000)]),
                    ],
                    required: ["lon", "lat", "uncertaintyMeters"]),
                "reportedAt": time, "timeUncertaintySeconds": type("number"), "origin": point,
                "bearingDegrees": type("number"), "weaponClass": enumeration(WeaponClass.allCases.map(\.rawValue)),
                "count": type("integer"), "credibility": type("integer"),
                "tlp": enumeration(TLP.allCases.map(\.rawValue)),
                "text": type("string"), "recipients": array(type("string")),
            ],
            required: ["id", "source", "observedAt", "kind", "location"]),
        "Incident": object(
            [
                "id": type("string"), "observationIds": array(type("string")), "kind": type("string"),
                "location": point, "start": time, "end": time,
                "status": enumeration(IncidentStatus.allCases.map(\.rawValue)), "sector": nullableString,
                "side": type("string"), "distanceToLineMeters": type("number"), "count": type("integer"),
                "sources": array(type("string")), "independentSources": type("integer"), "credibility": type("integer"),
                "late": type("boolean"), "receivedAt": time, "joinsIncidentId": type("string"),
                "ambiguousBetween": array(type("string")),
            ],
            required: ["id", "observationIds", "kind", "location", "start", "end", "status"]),
        "Violation": object(
            [
                "id": type("string"), "incidentId": nullableString, "rule": type("string"),
                "severity": enumeration(Severity.allCases.map(\.rawValue)), "attributedTo": type("string"),
                "attributionBasis": type("string"), "attributionProbability": type("number"), "zone": nullableString,
                "distanceToLineMeters": type("number"), "at": time,
                "incidentStatus": type("string"), "endorsedBy": array(type("string")), "endorsed": type("boolean"),
                "late": type("boolean"), "receivedAt": time, "delaySeconds": type("number"),
                "joinsIncidentId": type("string"),
            ],
            required: ["id", "rule", "severity", "attributedTo", "at"]),
        "Alert": object(
            [
                "id": type("string"), "kind": type("string"), "triggerId": type("string"), "level": type("integer"),
                "firedAt": time, "sector": nullableString, "violationIds": array(type("string")),
                "provisional": type("boolean"), "detail": type("string"),
            ],
            required: ["id", "triggerId", "level", "firedAt", "violationIds", "provisional"]),
        "Obligation": object(
            [
                "id": type("string"), "alertId": type("string"), "member": type("string"), "kind": type("string"),
                "deadline": time, "status": type("string"),
            ],
            required: ["id", "alertId", "member", "deadline", "status"]),
        "Action": object(
            [
                // `at`: the receipt time when left out; at most 72 h earlier, never later.
                "id": type("string"), "at": time, "action": type("string"), "member": type("string"),
                "user": type("string"),
                "reason": type("string"), "incident": type("string"), "violation": type("string"),
                "obligation": type("string"), "reference": type("string"), "pledge": type("string"),
                "quantity": type("number"),
            ],
            required: ["id", "action", "member", "user"]),
        "ActionResult": object(["id": type("string"), "outcome": type("string")], required: ["id", "outcome"]),
        "Checkpoint": object(
            [
                "size": type("integer"), "body": type("string"), "signature": type("string"),
                "cosignatures": type("object"), "published": type("boolean"),
            ],
            required: ["size", "body", "signature", "cosignatures", "published"]),
        "Proof": object(
            [
                "sequence": type("integer"), "size": type("integer"), "from": type("integer"), "to": type("integer"),
                "root": type("string"), "proof": array(type("string")),
            ],
            required: ["proof"]),
        "LogEntry": object(
            [
                "sequence": type("integer"), "kind": type("string"), "leafHash": type("string"),
                "payload": type("object"), "redacted": array(type("string")), "withheld": type("string"),
            ],
            required: ["sequence", "kind", "leafHash"]),
    ]

    private static func content(_ schema: JSONValue, _ mediaType: String = "application/json") -> JSONValue {
        .object([mediaType: .object(["schema": schema])])
    }

    private static func response(_ description: String, _ schema: JSONValue?, _ mediaType: String = "application/json")
        -> JSONValue
    {
        var r: [String: JSONValue] = ["description": .string(description)]
        if let schema { r["content"] = content(schema, mediaType) }
        return .object(r)
    }

    private static func query(_ name: String, _ schema: JSONValue, _ description: String, required: Bool = false)
        -> JSONValue
    {
        .object([
            "name": .string(name), "in": .string("query"), "required": .bool(required), "schema": schema,
            "description": .string(description),
        ])
    }

    private static let limitParameter = query(
        "limit", type("integer", ["minimum": .number(1), "maximum": .number(100_000)]), "At most this many")
    private static let afterParameter = query(
        "after", type("string", ["pattern": .string("^-?[0-9]+:.+$")]),
        "Go on after this place: the `next` of the previous page")

    /// Success response and parameters per route.
    private static func operation(_ route: APIRoute) -> JSONValue {
        var op: [String: JSONValue] = ["summary": .string(route.summary), "operationId": .string(operationId(route))]
        var responses: [String: JSONValue] = [:]
        var parameters: [JSONValue] = []
        let errorResponse = response("What was wrong", ref("Error"))
        switch (route.method, route.path) {
        case (.get, "/health"): responses["200"] = response("Alive", ref("Health"))
        case (.get, "/openapi.json"): responses["200"] = response("This document", type("object"))
        case (.get, "/metrics"): responses["200"] = response("Prometheus text format", type("string"), "text/plain")
        case (.post, "/observations"):
            op["requestBody"] = .object([
                "required": .bool(true),
                "content": .object([
                    "application/json": .object(["schema": ref("Observation")]),
                    "application/x-ndjson": .object(["schema": type("string")]),
                ]),
            ])
            responses["201"] = response("Stored (new observations appended)", ref("IngestResult"))
            responses["200"] = response("Every observation was already stored", ref("IngestResult"))
            for code in ["400", "409", "413", "415"] { responses[code] = errorResponse }
        case (.get, "/incidents"):
            parameters = [
                query("status", enumeration(IncidentStatus.allCases.map(\.rawValue)), "Only this status"),
                query("sector", type("string"), "Only this sector"),
                query("from", time, "Ending at or after"), query("to", time, "Starting at or before"),
                query("bbox", type("string"), "minLon,minLat,maxLon,maxLat"),
                query("kind", enumeration(ObservationKind.allCases.map(\.rawValue)), "Only this kind"),
                query("weaponClass", enumeration(WeaponClass.allCases.map(\.rawValue)), "Only this weapon class"),
                query("severity", enumeration(Severity.allCases.map(\.rawValue)), "Only with a finding this grave"),
                query("party", type("string"), "Only with a finding attributed to this party (or unattributed)"),
                query("ambiguous", type("boolean"), "Only reports two incidents explain about equally (true), or none"),
                limitParameter, afterParameter,
            ]
            responses["200"] = response(
                "Incidents the reader may see, oldest first (1,000 unless `limit` says otherwise)",
                object(["incidents": array(ref("Incident")), "next": nullableString], required: ["incidents", "next"]))
            responses["400"] = errorResponse
        case (.get, "/incidents/{id}/observations"):
            parameters = [
                .object([
                    "name": .string("id"), "in": .string("path"), "required": .bool(true), "schema": type("string"),
                ])
            ]
            responses["200"] = response(
                "The incident's observations the reader may read",
                object(
                    ["incident": type("string"), "observations": array(ref("Observation"))],
                    required: ["incident", "observations"]))
            responses["404"] = errorResponse
        case (.get, "/impediments"):
            responses["200"] = response(
                "Impediments per kind, party and sector",
                object(["impediments": array(type("object"))], required: ["impediments"]))
        case (.get, "/sanctions"):
            responses["200"] = response(
                "Sanctions events", object(["sanctions": array(type("object"))], required: ["sanctions"]))
        case (.get, "/incidents/queue"):
            parameters = [limitParameter]
            responses["200"] = response("Incident ids per status, oldest first (at most `limit` each)", type("object"))
            responses["400"] = errorResponse
        case (.get, "/violations"):
            parameters = [
                query(
                    "status", enumeration(IncidentStatus.allCases.map(\.rawValue)),
                    "Only findings whose incident has this status"),
                limitParameter, afterParameter,
            ]
            responses["200"] = response(
                "Findings, by (at, id) (1,000 unless `limit` says otherwise)",
                object(
                    ["violations": array(ref("Violation")), "next": nullableString], required: ["violations", "next"]))
            responses["400"] = errorResponse
        case (.post, "/actions"):
            op["requestBody"] = .object(["required": .bool(true), "content": content(ref("Action"))])
            responses["201"] = response("Applied and stored", ref("ActionResult"))
            for code in ["400", "409", "422"] { responses[code] = errorResponse }
        case (.get, "/reports/daily/{date}"), (.get, "/reports/spot/{id}"):
            let name = route.path == "/reports/daily/{date}" ? "date" : "id"
            parameters = [
                .object([
                    "name": .string(name), "in": .string("path"), "required": .bool(true), "schema": type("string"),
                ]),
                query("lang", enumeration(ReportLanguage.allCases.map(\.rawValue)), "The language (en)"),
                query("format", enumeration(["html", "md", "pdf"]), "html (self-contained), md or pdf (html)"),
            ]
            if name == "date" {
                parameters += [
                    query("cutoff", type("string"), "The day's cut-off, HH:MM local (19:30)"),
                    query("timeZone", type("string"), "The cut-off's time zone (Europe/Kyiv)"),
                ]
            }
            responses["200"] = .object([
                "description": .string("The report; headers X-Report-Event and X-Report-SHA256 name its issue"),
                "content": .object([
                    "text/html": .object([:]), "text/markdown": .object([:]), "application/pdf": .object([:]),
                ]),
            ])
            responses["400"] = errorResponse
            responses["404"] = errorResponse
            responses["503"] = errorResponse
        case (.get, "/alerts"):
            responses["200"] = response("Alerts", object(["alerts": array(ref("Alert"))], required: ["alerts"]))
        case (.get, "/obligations"):
            parameters = [query("member", type("string"), "Only this member's")]
            responses["200"] = response(
                "Obligations", object(["obligations": array(ref("Obligation"))], required: ["obligations"]))
        case (.get, "/statements"):
            responses["200"] = response(
                "Statements", object(["statements": array(type("object"))], required: ["statements"]))
        case (.get, "/coalition"), (.get, "/agreement"), (.get, "/line"), (.get, "/zones"), (.get, "/sectors"),
            (.get, "/me"):
            responses["200"] = response("The configuration", type("object"))
        case (.get, "/lines"):
            responses["200"] = response(
                "The lines, the agreement's first",
                object(
                    [
                        "lines": array(
                            object(
                                [
                                    "id": type("string"), "title": type("string"), "source": type("string"),
                                    "date": type("string"), "lengthMeters": type("number"),
                                    "agreement": type("boolean"),
                                ], required: ["id", "title", "lengthMeters", "agreement"]))
                    ], required: ["lines"]))
        case (.get, "/lines/compare"):
            parameters = [
                query("a", type("string"), "Line A's id (GET /lines)", required: true),
                query("b", type("string"), "Line B's id", required: true),
            ]
            responses["200"] = response(
                "summary.json of guarantor lines compare (docs/FORMATS.md), the record counted over what the caller may read",
                object(
                    [
                        "a": type("object"), "b": type("object"), "distance": type("object"), "area": type("object"),
                        "settlements": type("object"), "record": type("object"),
                    ], required: ["a", "b", "distance", "area", "settlements", "record"]))
            responses["400"] = errorResponse
            responses["404"] = errorResponse
        case (.get, "/lines/{id}"):
            parameters = [
                .object([
                    "name": .string("id"), "in": .string("path"), "required": .bool(true), "schema": type("string"),
                ])
            ]
            responses["200"] = response("The line as a GeoJSON FeatureCollection", type("object"))
            responses["404"] = errorResponse
        case (.get, "/stream"):
            parameters = [
                .object([
                    "name": .string("Last-Event-ID"), "in": .string("header"), "required": .bool(false),
                    "schema": type("string"),
                ]),
                query("events", enumeration(["alert", "incident"]), "Only this kind of event (default: both)"),
            ]
            responses["200"] = response("Server-Sent Events: alert and incident", type("string"), "text/event-stream")
            responses["400"] = errorResponse
        case (.post, "/import/{format}"):
            parameters = [
                .object([
                    "name": .string("format"), "in": .string("path"), "required": .bool(true),
                    "schema": enumeration(["stix", "acled", "ucdp"]),
                ]),
                query("source", type("string"), "The sources.json source the observations come from"),
            ]
            op["requestBody"] = .object([
                "required": .bool(true),
                "content": .object([
                    "application/json": .object(["schema": type("object")]),
                    "text/csv": .object(["schema": type("string")]),
                ]),
            ])
            responses["200"] = response("Already stored, nothing appended", type("object"))
            responses["201"] = response(
                "Appended: appended, alreadyStored, eventCount, skipped by kind", type("object"))
            for code in ["400", "404", "409", "413"] { responses[code] = errorResponse }
        case (.get, let path) where path.hasPrefix("/taxii2/"):
            for name in ["collection", "object"] where path.contains("{\(name)}") {
                parameters.append(
                    .object([
                        "name": .string(name), "in": .string("path"), "required": .bool(true),
                        "schema": type("string"),
                    ]))
            }
            if path.hasSuffix("/objects/") || path.hasSuffix("/manifest/") {
                parameters += [
                    query("added_after", type("string"), "Only objects added after this time (RFC 3339)"),
                    query("limit", type("integer"), "Objects per page, at most 1000 (the default)"),
                    query("next", type("string"), "The `next` of the page before"),
                    query("match[id]", type("string"), "Only these ids (comma-separated)"),
                    query("match[type]", type("string"), "Only these STIX types (comma-separated)"),
                    query("match[version]", type("string"), "last, first, all, or versions (comma-separated)"),
                    query("match[spec_version]", type("string"), "2.1"),
                ]
            }
            responses["200"] = response(
                "TAXII 2.1 (docs/API.md#taxii-21)", type("object"), "application/taxii+json;version=2.1")
            responses["404"] = errorResponse
            responses["406"] = errorResponse
        case (.get, "/export/stix.json"):
            responses["200"] = response(
                "A STIX 2.1 bundle (docs/FORMATS.md#stix-21)", type("object"), "application/stix+json;version=2.1")
        case (.get, "/export/acled.csv"):
            responses["200"] = response("ACLED-style CSV (docs/FORMATS.md#acled-style-csv)", type("string"), "text/csv")
        case (.get, "/export/incidents.geojson"), (.get, "/export/violations.geojson"):
            responses["200"] = response("A GeoJSON FeatureCollection of points", type("object"), "application/geo+json")
        case (.get, "/export/{file}"):
            parameters = [
                .object([
                    "name": .string("file"), "in": .string("path"), "required": .bool(true),
                    "schema": enumeration([
                        "incidents.ndjson", "violations.ndjson", "alerts.ndjson", "obligations.ndjson",
                    ]),
                ])
            ]
            responses["200"] = response(
                "NDJSON, as `guarantor replay` writes it", type("string"), "application/x-ndjson")
            responses["404"] = errorResponse
        case (.get, "/checkpoints"):
            responses["200"] = response(
                "The latest checkpoint (or null) and every size",
                object(
                    [
                        "latest": .object(["oneOf": .array([ref("Checkpoint"), type("null")])]),
                        "quorum": type("integer"), "checkpoints": array(type("object")),
                    ], required: ["latest", "quorum", "checkpoints"]))
        case (.get, "/verification"), (.post, "/verification"):
            let run = object(
                [
                    "startedAt": type("string"), "finishedAt": type("string"), "events": type("integer"),
                    "clean": type("boolean"), "passed": array(type("string")), "failures": array(type("string")),
                    "error": type("string"),
                ], required: ["startedAt", "events"])
            let nullable = JSONValue.object(["oneOf": .array([run, type("null")])])
            let body = object(["running": nullable, "last": nullable], required: ["running", "last"])
            if route.method == .post {
                responses["202"] = response("Started, or the run under way named", body)
            } else {
                responses["200"] = response("The last run and the one under way", body)
            }
        case (.post, "/checkpoints"):
            responses["201"] = response("Signed and stored", ref("Checkpoint"))
            responses["409"] = errorResponse
        case (.get, "/checkpoints/{size}"), (.post, "/checkpoints/{size}/cosignatures"):
            parameters = [
                .object([
                    "name": .string("size"), "in": .string("path"), "required": .bool(true),
                    "schema": type("integer", ["minimum": .number(0)]),
                ])
            ]
            if route.method == .post {
                op["requestBody"] = .object([
                    "required": .bool(true),
                    "content": content(object(["signature": type("string")], required: ["signature"])),
                ])
                responses["201"] = response("Cosignature stored", ref("Checkpoint"))
                responses["422"] = errorResponse
            } else {
                responses["200"] = response("The checkpoint", ref("Checkpoint"))
            }
            responses["400"] = errorResponse
            responses["404"] = errorResponse
        case (.get, "/proofs/inclusion"):
            let count = type("integer", ["minimum": .number(1)])
            parameters = [
                query("sequence", count, "The event (1-based)"), query("size", count, "The tree size"),
            ]
            responses["200"] = response("The audit path, hex", ref("Proof"))
            responses["400"] = errorResponse
            responses["404"] = errorResponse
        case (.get, "/proofs/consistency"):
            let count = type("integer", ["minimum": .number(0)])
            parameters = [query("from", count, "The older size"), query("to", count, "The newer size")]
            responses["200"] = response("The consistency proof, hex", ref("Proof"))
            responses["400"] = errorResponse
        case (.get, "/log/{sequence}"):
            parameters = [
                .object([
                    "name": .string("sequence"), "in": .string("path"), "required": .bool(true),
                    "schema": type("integer", ["minimum": .number(1)]),
                ])
            ]
            responses["200"] = response("The event", ref("LogEntry"))
            responses["400"] = errorResponse
            responses["404"] = errorResponse
        default: responses["200"] = response("OK", nil)
        }
        if route.needsKey {
            // A public route is read without a key too (the public view, TLP:CLEAR only).
            op["security"] = .array(
                [.object(["apiKey": .array([])])] + (route.isPublic ? [JSONValue.object([:])] : []))
            responses["401"] = errorResponse
            responses["403"] = errorResponse
            responses["429"] = errorResponse
        }
        if route.path.hasPrefix("/taxii2/") {
            // TAXII's own error message, in TAXII's media type.
            let taxiiError = response(
                "A TAXII error message",
                object(
                    ["title": type("string"), "http_status": type("string"), "description": type("string")],
                    required: ["title", "http_status"]), "application/taxii+json;version=2.1")
            for code in ["400", "401", "403", "404", "406", "429"] { responses[code] = taxiiError }
        }
        if !parameters.isEmpty { op["parameters"] = .array(parameters) }
        // A query parameter the route does not know is refused, never ignored.
        if responses["400"] == nil { responses["400"] = errorResponse }
        op["responses"] = .object(responses)
        return .object(op)
    }

    static func operationId(_ route: APIRoute) -> String {
        route.method.rawValue.lowercased()
            + route.path.split(whereSeparator: { !$0.isLetter }).map { $0.prefix(1).uppercased() + $0.dropFirst() }
            .joined()
    }

    static let document: JSONValue = {
        var paths: [String: [String: JSONValue]] = [:]
        for route in GuarantorAPI.routes {
            paths[route.path, default: [:]][route.method.rawValue.lowercased()] = operation(route)
        }
        return .object([
            "openapi": .string("3.1.0"),
            "info": .object([
                "title": .string("Guarantor"), "version": .string("1"),
                "description": .string(
                    "Monitoring, verification and the guarantee of a ceasefire. Every output is filtered for the reader's member (TLP 2.0)."
                ),
            ]),
            "paths": .object(paths.mapValues { .object($0) }),
            "components": .object([
                "schemas": .object(schemas),
                "securitySchemes": .object(["apiKey": .object(["type": .string("http"), "scheme": .string("bearer")])]),
            ]),
        ])
    }()
}
