import Foundation
import GuarantorCore
import GuarantorStore
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// The live stream of alerts and incident changes (Server-Sent Events), and exports of the replay files — each
/// filtered for the reader's member.
extension GuarantorAPI {
    func stream(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        try Self.allowParameters(request, ["events"])
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
                // Ends when the client goes (a write fails), the server shuts down gracefully, or the key is
                // revoked (checked at most once a second).
                var checked = ContinuousClock.now
                receiving: for await (id, event) in events {
                    if ContinuousClock.now - checked >= .seconds(1), caller != .publicReader {
                        guard try state.store.keyStands(id: caller.id) else { break receiving }
                        checked = .now
                    }
                    var data: [UInt8]
                    switch event {
                    case .heartbeat:
                        if Task.isCancelled || Task.isShuttingDownGracefully { break receiving }
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        continue
                    case .alert(let alert):
                        let readable = try await state.readable(findings: alert.violationIds, by: member, current: true)
                        // The public is told of an alert only when it may read everything the alert rests on,
                        // and of a de-escalation only when it lowers a level the public saw.
                        if member == Releasability.publicReader {
                            if alert.kind == .deescalation {
                                let told = try await shownAlerts(for: member)
                                guard told.contains(where: { $0.id == alert.id }) else { continue }
                            } else if !Self.isPublic(alert, readable: readable) {
                                continue
                            }
                        }
                        var w = JSONWriter()
                        Replay.alertLine(Self.shown(alert, readable: readable), into: &w)
                        data = w.bytes
                    case .incident(let incidentId):
                        // What the reader may see of the incident as it stands when sent.
                        guard let shown = try await state.incident(incidentId, for: member) else { continue }
                        if shown.restricted { try audit("/stream", 1) }
                        data = shown.line
                    }
                    var buffer = ByteBuffer(string: "id: \(id)\nevent: \(event.name)\ndata: ")
                    buffer.writeBytes(data)
                    buffer.writeString("\n\n")
                    try await writer.write(buffer)
                }
                try await writer.finish(nil)
            })
    }

    /// `GET /export/stix.json`, `/export/acled.csv`, `/export/incidents.geojson`, `/export/violations.geojson`: what
    /// the caller's member may read (the public: TLP:CLEAR only), its restricted records' read audited.
    func exchange(_ request: Request, _ caller: EventStore.KeyHolder, _ format: Exports.Format) async throws -> Response
    {
        try Self.noParameters(request)
        let file = try await state.export(format, reader: ReportReader(member: caller.member))
        if file.restricted > 0 { try audit(caller, "/export/\(format.rawValue)", records: file.restricted) }
        return Response(
            status: .ok, headers: [.contentType: format.contentType],
            body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }

    static let exportFiles = ["incidents.ndjson", "violations.ndjson", "alerts.ndjson", "obligations.ndjson"]

    func export(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        try Self.noParameters(request)
        let file = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
        guard Self.exportFiles.contains(file) else {
            throw APIError(.notFound, "no export \"\(file)\" (\(Self.exportFiles.joined(separator: ", ")))")
        }
        let state = self.state
        let member = caller.member
        switch file {
        case "alerts.ndjson", "obligations.ndjson":
            var w = JSONWriter()
            if file == "alerts.ndjson" {
                for a in try await shownAlerts(for: member) {
                    Replay.alertLine(a, into: &w)
                    w.newline()
                }
            } else {
                for o in await state.guarantee()?.obligations ?? [] {
                    Replay.obligationLine(o, into: &w)
                    w.newline()
                }
            }
            try audit(caller, "/export/\(file)", records: w.bytes.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 })
            return Response(
                status: .ok, headers: [.contentType: "application/x-ndjson"],
                body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
        default:
            // Incidents and findings page by page, written as they are read.
            let incidents = file == "incidents.ndjson"
            var first = JSONWriter()
            if !incidents {
                for v in state.standingFindings.sorted(by: { $0.id < $1.id }) {
                    Replay.violationLine(v, into: &first)
                    first.newline()
                }
            }
            // The whole export is read before the response starts, so that what is audited is what is sent.
            var chunks: [[UInt8]] = [first.bytes]
            var lines = first.bytes.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
            var cursor: (Int64, String)?
            while true {
                let page = try await state.incidents(for: member, after: cursor, filter: .init(), limit: 10_000) {
                    _ in true
                }
                var chunk: [UInt8] = []
                for i in page {
                    if incidents {
                        chunk += i.line
                        chunk.append(0x0A)
                        lines += 1
                    } else {
                        chunk += i.findings
                        lines += i.findingIds.count
                    }
                }
                chunks.append(chunk)
                guard let last = page.last, page.count == 10_000 else { break }
                cursor = (last.start, last.id)
            }
            try audit(caller, "/export/\(file)", records: lines)
            let body = chunks
            return Response(
                status: .ok, headers: [.contentType: "application/x-ndjson"],
                body: ResponseBody { writer in
                    for chunk in body where !chunk.isEmpty { try await writer.write(ByteBuffer(bytes: chunk)) }
                    try await writer.finish(nil)
                })
        }
    }
}
