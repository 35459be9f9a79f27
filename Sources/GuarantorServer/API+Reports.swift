import Crypto
import Dispatch
import Foundation
import GuarantorCore
import GuarantorStore
import HTTPTypes
import Hummingbird
import NIOCore

/// Daily and spot reports: HTML (self-contained), Markdown or PDF, as the caller's member may read them. Every report
/// served to a key holder is issued: its SHA-256 goes into the log as a `report` event (once for the same bytes). The
/// public's are served, not issued: a caller without a key could otherwise grow the log with every date, cut-off and
/// zone it asks for (`guarantor report --public` issues one when the mission publishes it).
extension GuarantorAPI {
    /// The formats a report is served in.
    enum ReportFormat: String, CaseIterable {
        case html, md, pdf

        var file: String { "report.\(rawValue)" }
        var contentType: String {
            switch self {
            case .html: "text/html; charset=utf-8"
            case .md: "text/markdown; charset=utf-8"
            case .pdf: "application/pdf"
            }
        }
    }

    /// A report page may use its own inline style and nothing else: no script, no request anywhere.
    static let reportPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"

    func dailyReport(_ request: Request, _ caller: EventStore.KeyHolder, date: String) async throws -> Response {
        try Self.allowParameters(request, ["lang", "format", "cutoff", "timeZone"])
        let q = request.uri.queryParameters
        let language = try Self.enumeration(request, "lang", ReportLanguage.self) ?? .en
        let format = try Self.enumeration(request, "format", ReportFormat.self) ?? .html
        let reader = ReportReader(member: caller.member)
        let files: Reports.Files
        do {
            files = try await state.dailyReport(
                date: date, cutoff: q.get("cutoff") ?? Reports.defaultCutoff,
                timeZone: q.get("timeZone") ?? Reports.defaultTimeZone, reader: reader, language: language)
        } catch let refusal as Reports.Refusal {
            throw APIError(.badRequest, refusal.description)
        }
        return try await serve(
            files, format: format, kind: "daily", subject: date, reader: reader, language: language, to: caller,
            path: "/reports/daily/\(date)")
    }

    func spotReport(_ request: Request, _ caller: EventStore.KeyHolder, alert: String) async throws -> Response {
        try Self.allowParameters(request, ["lang", "format"])
        let language = try Self.enumeration(request, "lang", ReportLanguage.self) ?? .en
        let format = try Self.enumeration(request, "format", ReportFormat.self) ?? .html
        let reader = ReportReader(member: caller.member)
        let files: Reports.Files
        do {
            files = try await state.spotReport(alert: alert, reader: reader, language: language)
        } catch let refusal as Reports.Refusal {
            throw APIError(refusal.notFound ? .notFound : .badRequest, refusal.description)
        }
        return try await serve(
            files, format: format, kind: "spot", subject: alert, reader: reader, language: language, to: caller,
            path: "/reports/spot/\(alert)")
    }

    /// The report in `format`, issued to the log (for a key holder) and its restricted records' read audited, once
    /// the bytes exist; the event's sequence number and the SHA-256 in headers.
    private func serve(
        _ files: Reports.Files, format: ReportFormat, kind: String, subject: String, reader: ReportReader,
        language: ReportLanguage, to caller: EventStore.KeyHolder, path: String
    ) async throws -> Response {
        let bytes: [UInt8]
        switch format {
        case .html: bytes = files.html
        case .md: bytes = files.markdown
        case .pdf:
            do {
                bytes = try await Self.printer.pdf(ofHTML: files.html)
            } catch let refusal as Reports.Refusal {
                throw APIError(.serviceUnavailable, refusal.description)
            }
        }
        if files.restricted > 0 { try audit(caller, path, records: files.restricted) }
        var headers: HTTPFields = [
            .contentType: format.contentType, .contentSecurityPolicy: Self.reportPolicy,
            .init("X-Content-Type-Options")!: "nosniff",
        ]
        if reader != .publicReader {
            let event = try Reports.issue(
                [(format.file, bytes)], kind: kind, subject: subject, reader: reader, language: language,
                through: files.through, store: state.store)
            headers[.init("X-Report-Event")!] = "\(event)"
        }
        headers[.init("X-Report-SHA256")!] = EventChain.hex(Array(SHA256.hash(data: bytes)))
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Prints reports to PDF one at a time (Chromium takes seconds and most of a core), on a thread of its own rather
/// than the server's executors, and keeps the last few: asking again for the same page costs nothing.
actor PDFPrinter {
    private var recent: [(html: [UInt8], pdf: [UInt8])] = []
    private static let kept = 8
    /// Serial: a second print waits for the first (the actor alone would not, being re-entered while it awaits).
    private let queue = DispatchQueue(label: "guarantor.pdf")

    func pdf(ofHTML html: [UInt8]) async throws -> [UInt8] {
        if let hit = recent.first(where: { $0.html == html }) { return hit.pdf }
        let pdf = try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try Reports.pdf(ofHTML: html) }) }
        }
        if let hit = recent.first(where: { $0.html == html }) { return hit.pdf }
        recent.insert((html, pdf), at: 0)
        if recent.count > Self.kept { recent.removeLast() }
        return pdf
    }
}

extension GuarantorAPI {
    /// The server's one printer.
    static let printer = PDFPrinter()
}
