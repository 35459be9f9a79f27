import Foundation
import GuarantorCore
import GuarantorStore
import HTTPTypes
import Hummingbird
import NIOCore

/// A TAXII 2.1 server over the STIX bundle (docs/API.md#taxii-21): discovery at `/taxii2/`, one API root, and one
/// read-only collection per caller — the caller's own view, exactly what `GET /export/stix.json` gives it — with
/// `objects` (by `added_after`, `match[id]`, `match[type]`, `match[version]`, paged by `limit` and `next`), one
/// object, its versions, and the `manifest`. Keys as elsewhere: `Authorization: Bearer gk_…`, or Basic with the key
/// as the password (what TAXII clients send); without one, the public's collection.
enum TAXII {
    static let mediaType = "application/taxii+json;version=2.1"
    static let stixMediaType = "application/stix+json;version=2.1"
    /// The most objects one page holds (and the default).
    static let pageLimit = 1_000

    /// The collection of `reader`'s view: a UUIDv5 of the mission and the reader.
    static func collectionId(missionId: String, reader: ReportReader) -> String {
        STIXBundle.uuid5(Array("\(missionId)|taxii-collection|\(reader.id)".utf8))
    }

    /// What a request for objects or the manifest asks for.
    struct Query: Sendable {
        var addedAfter: Timestamp?
        var limit = TAXII.pageLimit
        /// The (date added, id) after which the page starts: `next` of the page before.
        var after: (added: Int64, id: String)?
        var ids: Set<String>?
        var types: Set<String>?
        /// `nil`: the latest (`last`, `first` and `all` are the same: the server keeps only the latest version).
        var versions: Set<Int64>?

        static let parameters = [
            "added_after", "limit", "next", "match[id]", "match[type]", "match[version]", "match[spec_version]",
        ]

        init() {}

        init(_ request: Request, paged: Bool) throws {
            try GuarantorAPI.allowParameters(
                request, paged ? Self.parameters : ["match[version]", "match[spec_version]"])
            let q = request.uri.queryParameters
            if let text = q.get("added_after") { addedAfter = try GuarantorAPI.time(text, "added_after") }
            if q.get("limit") != nil {
                limit = min(try GuarantorAPI.integer(request, "limit", in: 1...100_000), TAXII.pageLimit)
            }
            if let text = q.get("next") {
                let parts = text.split(separator: "~", maxSplits: 1)
                guard parts.count == 2, let added = Int64(parts[0]) else {
                    throw APIError(.badRequest, "next: \"\(text)\" is not a `next` this server gave")
                }
                after = (added, String(parts[1]))
            }
            func list(_ name: String) -> Set<String>? {
                q.get(name).map { Set($0.split(separator: ",").map { String($0) }) }
            }
            ids = list("match[id]")
            types = list("match[type]")
            if let spec = list("match[spec_version]"), !spec.contains("2.1") { types = [] }
            if let wanted = list("match[version]") {
                let named = wanted.subtracting(["last", "first", "all"])
                if named.count < wanted.count {
                    versions = nil
                } else {
                    versions = Set(try named.map { try GuarantorAPI.time($0, "match[version]").nanoseconds })
                }
            }
        }

        func matches(_ o: STIXBundle.Object) -> Bool {
            if let addedAfter, o.added <= addedAfter { return false }
            if let ids, !ids.contains(o.id) { return false }
            if let types, !types.contains(o.type) { return false }
            if let versions, !versions.contains(o.version.nanoseconds) { return false }
            return true
        }
    }

    /// One page of `objects` (sorted by date added, then id) that match `query`, whether more follow, and the `next`
    /// that gives them.
    static func page(_ objects: [STIXBundle.Object], _ query: Query) -> (
        objects: [STIXBundle.Object], more: Bool, next: String?
    ) {
        var start = 0
        if let after = query.after {
            // The first object past the cursor (binary search on the order).
            var low = 0
            var high = objects.count
            while low < high {
                let mid = (low + high) / 2
                let o = objects[mid]
                if (o.added.nanoseconds, o.id) <= (after.added, after.id) { low = mid + 1 } else { high = mid }
            }
            start = low
        }
        var page: [STIXBundle.Object] = []
        var k = start
        while k < objects.count, page.count < query.limit {
            if query.matches(objects[k]) { page.append(objects[k]) }
            k += 1
        }
        let more = objects[k...].contains { query.matches($0) }
        let last = page.last
        return (page, more, more ? last.map { "\($0.added.nanoseconds)~\($0.id)" } : nil)
    }

    static func response(_ bytes: [UInt8], headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: mediaType]
        headers.append(contentsOf: extra)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A TAXII error message (title, http_status, description).
    static func error(_ e: APIError) -> Response {
        var w = JSONWriter()
        w.beginObject()
        w.key("title"); w.string(e.status.reasonPhrase)
        w.key("http_status"); w.string(String(e.status.code))
        w.key("description"); w.string(e.message)
        w.endObject()
        var headers: HTTPFields = [.contentType: mediaType]
        if let retryAfter = e.retryAfter { headers[.retryAfter] = String(max(retryAfter, 1)) }
        if e.status == .unauthorized { headers[.wwwAuthenticate] = #"Basic realm="guarantor""# }
        return Response(status: e.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
    }

    /// 406 unless the client accepts TAXII 2.1 (or anything).
    static func checkAccept(_ request: Request) throws {
        guard let accept = request.headers[.accept]?.replacingOccurrences(of: " ", with: "") else { return }
        let acceptable = accept.split(separator: ",").contains { part in
            let type = part.split(separator: ";").first.map(String.init) ?? ""
            return type == "*/*" || type == "application/*" || type == "application/json"
                || (type == "application/taxii+json" && (!part.contains("version=") || part.contains("version=2.1")))
        }
        guard acceptable else {
            throw APIError(.notAcceptable, "Accept: this server speaks \(mediaType)")
        }
    }
}

extension GuarantorAPI {
    /// The caller's reader and collection.
    private func taxiiReader(_ caller: EventStore.KeyHolder) -> (reader: ReportReader, collection: String) {
        let reader = ReportReader(member: caller.member)
        return (reader, TAXII.collectionId(missionId: state.mission.agreement.id, reader: reader))
    }

    private func collectionJSON(_ id: String, _ reader: ReportReader, into w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("title"); w.string("\(state.mission.agreement.title): the record as \(reader.id) may read it")
        w.key("description")
        w.string(
            "Observations, incidents, verified violations and daily reports as STIX 2.1, filtered for \(reader.id) "
                + "(the same objects as GET /export/stix.json). Read-only: observations are filed through POST "
                + "/observations or POST /import/stix.")
        w.key("can_read"); w.bool(true)
        w.key("can_write"); w.bool(false)
        w.key("media_types"); w.beginArray(); w.string(TAXII.stixMediaType); w.endArray()
        w.endObject()
    }

    /// The TAXII routes' handler, by the route's path in ``routes``.
    func taxii(_ path: String, _ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        try TAXII.checkAccept(request)
        let (reader, collection) = taxiiReader(caller)
        let parts = request.uri.path.split(separator: "/").map(String.init)
        // /taxii2/api/collections/{collection}/objects/{object}/versions/
        if parts.count >= 4, parts[3] != collection {
            throw APIError(.notFound, "no collection \(parts[3]) for this key (GET /taxii2/api/collections/)")
        }
        var w = JSONWriter()
        switch path {
        case "/taxii2/":
            try Self.noParameters(request)
            w.beginObject()
            w.key("title"); w.string("Guarantor: \(state.mission.agreement.title)")
            w.key("description")
            w.string("The ceasefire monitoring mission's record as STIX 2.1, each reader's own view.")
            w.key("default"); w.string("/taxii2/api/")
            w.key("api_roots"); w.beginArray(); w.string("/taxii2/api/"); w.endArray()
            w.endObject()
        case "/taxii2/api/":
            try Self.noParameters(request)
            w.beginObject()
            w.key("title"); w.string(state.mission.agreement.title)
            w.key("versions"); w.beginArray(); w.string(TAXII.mediaType); w.endArray()
            w.key("max_content_length"); w.int(limits.maximumBodyBytes)
            w.endObject()
        case "/taxii2/api/collections/":
            try Self.noParameters(request)
            w.beginObject()
            w.key("collections"); w.beginArray()
            collectionJSON(collection, reader, into: &w)
            w.endArray()
            w.endObject()
        case "/taxii2/api/collections/{collection}/":
            try Self.noParameters(request)
            collectionJSON(collection, reader, into: &w)
        case "/taxii2/api/collections/{collection}/objects/", "/taxii2/api/collections/{collection}/manifest/":
            let query = try TAXII.Query(request, paged: true)
            let page = TAXII.page(try await state.stixObjects(reader: reader), query)
            let manifest = path.hasSuffix("manifest/")
            w.beginObject()
            w.key("more"); w.bool(page.more)
            if let next = page.next { w.key("next"); w.string(next) }
            if !page.objects.isEmpty {
                w.key("objects"); w.beginArray()
                for o in page.objects {
                    if manifest {
                        w.beginObject()
                        w.key("id"); w.string(o.id)
                        w.key("date_added"); w.string(STIXBundle.time(o.added))
                        w.key("version"); w.string(STIXBundle.time(o.version))
                        w.key("media_type"); w.string(TAXII.stixMediaType)
                        w.endObject()
                    } else {
                        w.raw(o.bytes)
                    }
                }
                w.endArray()
            }
            w.endObject()
            try taxiiAudit(caller, request, page.objects)
            return TAXII.response(w.bytes, headers: Self.addedHeaders(page.objects))
        case "/taxii2/api/collections/{collection}/objects/{object}/",
            "/taxii2/api/collections/{collection}/objects/{object}/versions/":
            var query = try TAXII.Query(request, paged: false)
            query.ids = [parts.count > 5 ? parts[5] : ""]
            let found = TAXII.page(try await state.stixObjects(reader: reader), query).objects
            guard !found.isEmpty else {
                throw APIError(.notFound, "no object \(parts.count > 5 ? parts[5] : "") in this collection")
            }
            w.beginObject()
            w.key("more"); w.bool(false)
            if path.hasSuffix("versions/") {
                w.key("versions"); w.beginArray()
                for o in found { w.string(STIXBundle.time(o.version)) }
                w.endArray()
            } else {
                w.key("objects"); w.beginArray()
                for o in found { w.raw(o.bytes) }
                w.endArray()
                try taxiiAudit(caller, request, found)
            }
            w.endObject()
            return TAXII.response(w.bytes, headers: Self.addedHeaders(found))
        default:
            throw APIError(.notFound, "no such TAXII resource")
        }
        return TAXII.response(w.bytes)
    }

    /// `X-TAXII-Date-Added-First` and `-Last` of a page.
    private static func addedHeaders(_ objects: [STIXBundle.Object]) -> HTTPFields {
        guard let first = objects.map(\.added).min(), let last = objects.map(\.added).max() else { return [:] }
        return [
            HTTPField.Name("X-TAXII-Date-Added-First")!: STIXBundle.time(first),
            HTTPField.Name("X-TAXII-Date-Added-Last")!: STIXBundle.time(last),
        ]
    }

    /// A key holder's read of objects marked above TLP:CLEAR is audited, as every restricted read is.
    private func taxiiAudit(_ caller: EventStore.KeyHolder, _ request: Request, _ objects: [STIXBundle.Object])
        throws
    {
        let restricted = objects.filter { $0.marking != .clear }.count
        if restricted > 0, caller.member != Releasability.publicReader {
            try audit(caller, request.uri.path, records: restricted)
        }
    }
}
