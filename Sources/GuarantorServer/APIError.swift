import Foundation
import GuarantorCore
import GuarantorStore
import HTTPTypes
import Hummingbird
import NIOCore

/// A refusal with a status and a message that says what was wrong (never a stack trace or a path).
struct APIError: Error, HTTPResponseError {
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

    func response(from request: Request, context: some RequestContext) throws -> Response { response }

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

    /// Every error a handler throws, as the response the client gets: refusals as they are; a record that conflicts
    /// with a stored one is 409; a store that cannot be read or written is 503 (the server's fault, not the
    /// client's); anything else is a 500 with a generic message.
    static func mapped(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as StoreError:
            switch error.code {
            case .conflictingObservation, .wrongMission: return APIError(.conflict, error.message)
            case .aheadOfReceipt: return APIError(.badRequest, error.message)
            case .readOnly: return APIError(.serviceUnavailable, error.message)
            case .cannotOpen, .writeFailed, .readFailed, .corrupt, .headMoved:
                return APIError(.serviceUnavailable, "the store could not be used; try again later")
            }
        case let error as FieldError:
            return APIError(.badRequest, error.description)
        case let error as any HTTPResponseError:
            // The router's own: no such route (404), no such method (405), a body too large (413).
            return APIError(error.status, error.status.reasonPhrase.lowercased())
        default:
            return APIError(.internalServerError, "the request could not be processed")
        }
    }
}

/// Turns whatever a handler throws into a JSON error, in one place, and counts requests and refusals.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let metrics: GuarantorAPI.Metrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        metrics.requests.increment()
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let error = APIError.mapped(error)
            // TAXII clients read TAXII's error message.
            response = request.uri.path.hasPrefix("/taxii2") ? TAXII.error(error) : error.response
        }
        if (400..<500).contains(response.status.code) { metrics.refused.increment() }
        return response
    }
}

/// Authenticates the API key (`Authorization: Bearer gk_…`, or Basic with the key as the password, as TAXII clients
/// send it) when the route needs one, checks the role's right, and limits requests per key.
struct KeyMiddleware: RouterMiddleware {
    /// The key in an `Authorization` header: Bearer, or the password of Basic (the user name is not read).
    static func key(_ header: String?) -> String? {
        guard let header else { return nil }
        if header.hasPrefix("Bearer ") { return String(header.dropFirst("Bearer ".count)) }
        guard header.hasPrefix("Basic "), let decoded = Data(base64Encoded: String(header.dropFirst("Basic ".count))),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return String(text[text.index(after: colon)...])
    }

    typealias Context = APIContext
    let route: APIRoute
    let store: EventStore
    let limiter: RateLimiter
    let limits: APILimits

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard route.needsKey else { return try await next(request, context) }
        guard let key = Self.key(request.headers[.authorization]) else {
            guard route.isPublic, request.headers[.authorization] == nil else {
                throw APIError(.unauthorized, "an API key is required: Authorization: Bearer gk_…")
            }
            // The public view: TLP:CLEAR only, every such caller sharing one rate bucket.
            if let wait = limiter.take(EventStore.KeyHolder.publicReader.id) {
                throw APIError(
                    .tooManyRequests, "more than \(Int(limits.requestsPerSecond)) requests a second without a key",
                    retryAfter: Int(wait.rounded(.up)))
            }
            var context = context
            context.caller = .publicReader
            return try await next(request, context)
        }
        guard let holder = try store.keyHolder(hash: APIKeys.hash(key)),
            holder.member != Releasability.publicReader
        else {
            throw APIError(.unauthorized, "unknown API key")
        }
        if let right = route.right, Role(rawValue: holder.role)?.rights.contains(right) != true {
            throw APIError(.forbidden, "the role \(holder.role) cannot \(right.rawValue)")
        }
        if let wait = limiter.take(holder.id) {
            throw APIError(
                .tooManyRequests, "more than \(Int(limits.requestsPerSecond)) requests a second for this key",
                retryAfter: Int(wait.rounded(.up)))
        }
        var context = context
        context.caller = holder
        return try await next(request, context)
    }
}
