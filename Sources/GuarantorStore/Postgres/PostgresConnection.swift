import CLibPQ
import Foundation

/// A parameter of a PostgreSQL statement: text and integers are sent as text, bytes as binary.
enum PostgresValue {
    case text(String)
    case int(Int64)
    case bytes([UInt8])
    case null
}

/// A failed PostgreSQL call: the server's message (and SQLSTATE), and whether the connection was lost with it.
struct PostgresError: Error, CustomStringConvertible {
    var message: String
    var sqlState: String?
    /// The connection is gone (a restart, a network failure, or no server to connect to): what a retry can mend.
    var connectionLost: Bool
    var description: String { message }
}

/// The rows of one statement, every column in PostgreSQL's binary format.
final class PostgresRows {
    private let result: OpaquePointer

    init(_ result: OpaquePointer) { self.result = result }
    deinit { PQclear(result) }

    var count: Int { Int(PQntuples(result)) }

    func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(result, Int32(row), Int32(column)) == 1 }

    /// The column's bytes, valid only inside `body`.
    func withBytes<T>(_ row: Int, _ column: Int, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        guard let value = PQgetvalue(result, Int32(row), Int32(column)) else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        return try body(UnsafeRawBufferPointer(start: value, count: length))
    }

    func bytes(_ row: Int, _ column: Int) -> [UInt8] { withBytes(row, column) { Array($0) } }

    func string(_ row: Int, _ column: Int) -> String { withBytes(row, column) { String(decoding: $0, as: UTF8.self) } }

    func optionalString(_ row: Int, _ column: Int) -> String? {
        isNull(row, column) ? nil : string(row, column)
    }

    /// A `bigint` column (8 bytes, big-endian).
    func int64(_ row: Int, _ column: Int) -> Int64 {
        withBytes(row, column) { raw in raw.reduce(Int64(0)) { $0 << 8 | Int64($1) } }
    }

    /// A `boolean` column.
    func bool(_ row: Int, _ column: Int) -> Bool { withBytes(row, column) { $0.first == 1 } }
}

/// One libpq connection, used by one thread at a time (``PostgresPool`` sees to it).
final class PostgresConnection {
    private var connection: OpaquePointer?

    /// Connects to `url` (a libpq connection URI), giving up after 5 s unless the URI says otherwise.
    init(url: String) throws {
        // Keywords listed before `dbname` are overridden by the URI's own parameters.
        let keywords = ["connect_timeout", "dbname"]
        let values = ["5", url]
        connection = withCStrings(keywords) { k in withCStrings(values) { v in PQconnectdbParams(k, v, 1) } }
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            if let connection { PQfinish(connection) }
            self.connection = nil
            throw PostgresError(
                message: "cannot connect to PostgreSQL: \(message.trimmingCharacters(in: .whitespacesAndNewlines))",
                sqlState: nil, connectionLost: true)
        }
        _ = try execute("SET client_min_messages TO warning")
    }

    deinit { if let connection { PQfinish(connection) } }

    /// Whether the connection is gone.
    var isLost: Bool { connection.map { PQstatus($0) != CONNECTION_OK } ?? true }

    /// Runs one statement with its parameters (`$1`, `$2`, …) and returns its rows.
    @discardableResult
    func execute(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresRows {
        guard let connection else { throw PostgresError(message: "no connection", sqlState: nil, connectionLost: true) }
        var buffers: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        defer { for buffer in buffers { buffer?.deallocate() } }
        for parameter in parameters {
            let bytes: [UInt8]?
            switch parameter {
            case .text(let s): bytes = Array(s.utf8) + [0]
            case .int(let i): bytes = Array(String(i).utf8) + [0]
            case .bytes(let b): bytes = b
            case .null: bytes = nil
            }
            guard let bytes else {
                buffers.append(nil)
                lengths.append(0)
                formats.append(0)
                continue
            }
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBytes { raw in
                if let base = raw.baseAddress {
                    buffer.update(from: base.assumingMemoryBound(to: CChar.self), count: raw.count)
                }
            }
            buffers.append(buffer)
            lengths.append(Int32(bytes.count))
            if case .bytes = parameter { formats.append(1) } else { formats.append(0) }
        }
        let result = buffers.withUnsafeBufferPointer { values in
            values.withMemoryRebound(to: UnsafePointer<CChar>?.self) { values in
                PQexecParams(
                    connection, sql, Int32(parameters.count), nil, values.baseAddress, lengths, formats, 1)
            }
        }
        return try check(result)
    }

    /// Waits up to `timeout` seconds for a notification on a channel this connection LISTENs to; returns the
    /// channels notified (empty when none came in time).
    /// - Throws: ``PostgresError`` with `connectionLost` when the connection is gone.
    func notifications(waitingUpTo timeout: Double) throws -> Set<String> {
        guard let connection else { throw PostgresError(message: "no connection", sqlState: nil, connectionLost: true) }
        var channels = takeNotifications()
        if !channels.isEmpty { return channels }
        var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(timeout * 1000)) > 0 else { return [] }
        guard PQconsumeInput(connection) == 1 else {
            throw PostgresError(
                message: String(cString: PQerrorMessage(connection)), sqlState: nil, connectionLost: true)
        }
        channels = takeNotifications()
        return channels
    }

    private func takeNotifications() -> Set<String> {
        var channels: Set<String> = []
        while let notification = PQnotifies(connection) {
            channels.insert(String(cString: notification.pointee.relname))
            PQfreemem(notification)
        }
        return channels
    }

    /// Sends `data` (PostgreSQL's binary COPY format, ``PostgresCopy``) to a `COPY … FROM STDIN` statement.
    func copy(_ sql: String, data: [UInt8]) throws {
        guard let connection else { throw PostgresError(message: "no connection", sqlState: nil, connectionLost: true) }
        let start = PQexec(connection, sql)
        guard let start, PQresultStatus(start) == PGRES_COPY_IN else { _ = try check(start); return }
        PQclear(start)
        var offset = 0
        let chunk = 1 << 20
        while offset < data.count {
            let n = min(chunk, data.count - offset)
            let sent = data.withUnsafeBytes { raw in
                PQputCopyData(
                    connection, raw.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self), Int32(n))
            }
            if sent != 1 { break }
            offset += n
        }
        PQputCopyEnd(connection, offset < data.count ? "the copy was cut short" : nil)
        var failure: PostgresError?
        while let result = PQgetResult(connection) {
            do { _ = try check(result) } catch let error as PostgresError { failure = failure ?? error }
        }
        if let failure { throw failure }
    }

    private func check(_ result: OpaquePointer?) throws -> PostgresRows {
        guard let result else {
            throw PostgresError(message: errorMessage, sqlState: nil, connectionLost: isLost)
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_COPY_IN:
            return PostgresRows(result)
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = String(cString: PQresultErrorMessage(result))
            PQclear(result)
            throw PostgresError(
                message: message.trimmingCharacters(in: .whitespacesAndNewlines), sqlState: state,
                connectionLost: isLost)
        }
    }

    private var errorMessage: String {
        connection.map { String(cString: PQerrorMessage($0)).trimmingCharacters(in: .whitespacesAndNewlines) }
            ?? "no connection"
    }
}

/// Builds the body of a binary `COPY … FROM STDIN (FORMAT binary)`.
struct PostgresCopy {
    private(set) var bytes: [UInt8] =
        Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [UInt8](repeating: 0, count: 8)

    /// Starts a row of `fields` columns.
    mutating func row(fields: Int) { append16(Int16(fields)) }
    mutating func int64(_ value: Int64) {
        append32(8)
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> Int64(shift)))
        }
    }
    mutating func text(_ value: String?) {
        guard let value else { append32(-1); return }
        let utf8 = value.utf8
        append32(Int32(utf8.count))
        bytes.append(contentsOf: utf8)
    }
    mutating func bytea(_ value: [UInt8]) {
        append32(Int32(value.count))
        bytes.append(contentsOf: value)
    }
    /// The trailer; the body is complete.
    mutating func finish() { append16(-1) }

    private mutating func append16(_ v: Int16) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }
    private mutating func append32(_ v: Int32) {
        for shift in [24, 16, 8, 0] { bytes.append(UInt8(truncatingIfNeeded: v >> Int32(shift))) }
    }
}

/// A few connections to one database, each used by one caller at a time, with transactions that survive a
/// restart of the server: a transaction whose connection was lost before it committed is run again on a new one.
final class PostgresPool: @unchecked Sendable {
    let url: String
    private let capacity: Int
    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var open = 0

    init(url: String, capacity: Int = 4) throws {
        self.url = url
        self.capacity = capacity
        let first = try PostgresConnection(url: url)
        idle.append(first)
        open = 1
    }

    /// Runs `body` in one transaction. Writes take the log's lock first (`lock`); reads are one consistent view.
    /// A connection lost before `COMMIT` was sent is replaced and the transaction run again, for up to ~30 s.
    func transaction<T>(readOnly: Bool = false, _ body: (PostgresConnection) throws -> T) throws -> T {
        var attempt = 0
        while true {
            var committing = false
            do {
                return try withConnection { connection in
                    try connection.execute(readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN")
                    do {
                        let value = try body(connection)
                        committing = true
                        try connection.execute("COMMIT")
                        return value
                    } catch {
                        if !connection.isLost { _ = try? connection.execute("ROLLBACK") }
                        throw error
                    }
                }
            } catch let error as PostgresError where error.connectionLost && !committing && attempt < 60 {
                attempt += 1
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }

    private func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try checkOut()
        defer { checkIn(connection) }
        return try body(connection)
    }

    private func checkOut() throws -> PostgresConnection {
        condition.lock()
        while idle.isEmpty && open >= capacity { condition.wait() }
        if let connection = idle.popLast() {
            condition.unlock()
            return connection
        }
        open += 1
        condition.unlock()
        do {
            return try PostgresConnection(url: url)
        } catch {
            condition.lock()
            open -= 1
            condition.signal()
            condition.unlock()
            throw error
        }
    }

    private func checkIn(_ connection: PostgresConnection) {
        condition.lock()
        if connection.isLost { open -= 1 } else { idle.append(connection) }
        condition.signal()
        condition.unlock()
    }
}

private func withCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
    let pointers = strings.map { strdup($0) }
    defer { for p in pointers { free(p) } }
    let terminated: [UnsafePointer<CChar>?] = pointers.map { UnsafePointer($0) } + [nil]
    return terminated.withUnsafeBufferPointer { body($0.baseAddress!) }
}
