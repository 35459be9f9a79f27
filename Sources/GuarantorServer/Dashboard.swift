import Hummingbird
import NIOCore

/// The dashboard at `/`: one HTML page, its script and its style sheet, compiled into the binary
/// (`Dashboard/`, embedded by the package). The page reads the API like any client: without a key the public view,
/// with one what the key's member may read. Its Content-Security-Policy allows nothing but this server.
enum Dashboard {
    static let files: [(path: String, type: String, bytes: [UInt8])] = [
        ("/", "text/html; charset=utf-8", PackageResources.index_html),
        ("/dashboard.js", "text/javascript; charset=utf-8", PackageResources.dashboard_js),
        ("/dashboard.css", "text/css; charset=utf-8", PackageResources.dashboard_css),
    ]

    static let policy =
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        + "connect-src 'self'; frame-ancestors 'none'"

    static func add(to router: Router<APIContext>) {
        for file in files {
            let response = Response(
                status: .ok,
                headers: [
                    .contentType: file.type, .contentSecurityPolicy: policy, .cacheControl: "no-cache",
                    .init("X-Content-Type-Options")!: "nosniff",
                ],
                body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
            router.get(RouterPath(stringLiteral: file.path)) { _, _ in response }
        }
    }
}
