/// A problem with one line of an NDJSON file: line number (1-based), field and reason.
public struct LineError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var field: String
    public var reason: String

    public init(line: Int, field: String, reason: String) {
        self.line = line
        self.field = field
        self.reason = reason
    }

    public var description: String { field.isEmpty ? "line \(line): \(reason)" : "line \(line): \(field): \(reason)" }
}

/// A whole NDJSON file of observations, validated all at once: either every line is good, or the batch is
/// rejected with every error listed (up to ``NDJSON/maximumErrors``) and nothing may be applied.
public struct ObservationBatch: Sendable {
    /// The observations, in file order, with their 1-based line numbers.
    public var observations: [Observation]
    public var lineNumbers: [Int]

    public init(observations: [Observation], lineNumbers: [Int]) {
        self.observations = observations
        self.lineNumbers = lineNumbers
    }

    /// Parses and validates NDJSON bytes (one observation a line; blank lines are ignored).
    public static func parse(_ bytes: [UInt8], isKnownSource: (String) -> Bool) -> Result<
        ObservationBatch, NDJSON.Rejection
    > {
        NDJSON.parseLines(bytes, what: "observations", id: \.id) { try decode($0, isKnownSource: isKnownSource) }
            .map { ObservationBatch(observations: $0.records, lineNumbers: $0.lineNumbers) }
    }

    /// Stamps every observation as received at `time` (replacing any `receivedAt` the sender wrote) and refuses the
    /// batch if any is dated more than `maximumSkewSeconds` after it, naming each such line.
    public mutating func receive(at time: Timestamp, maximumSkewSeconds: Double) throws(NDJSON.Rejection) {
        for i in observations.indices { observations[i].receivedAt = time }
        try checkReceipt(maximumSkewSeconds: maximumSkewSeconds)
    }

    /// Refuses the batch if any observation is dated more than `maximumSkewSeconds` after its `receivedAt`.
    public func checkReceipt(maximumSkewSeconds: Double) throws(NDJSON.Rejection) {
        var errors: [LineError] = []
        var total = 0
        for (i, o) in observations.enumerated() {
            guard let problem = o.receiptProblem(maximumSkewSeconds: maximumSkewSeconds) else { continue }
            total += 1
            if errors.count < NDJSON.maximumErrors {
                errors.append(LineError(line: lineNumbers[i], field: "observedAt", reason: problem))
            }
        }
        if total > 0 { throw NDJSON.Rejection(errors: errors, totalErrors: total) }
    }

    /// One line of an observations file: read straight from its bytes when it is plain (``ObservationDecoder``),
    /// by the general reader otherwise, which names what is wrong.
    /// - Throws: ``JSONParseError`` or ``FieldError``.
    public static func decode(_ line: UnsafeBufferPointer<UInt8>, isKnownSource: (String) -> Bool) throws
        -> Observation
    {
        if let o = ObservationDecoder.decode(line, isKnownSource: isKnownSource) { return o }
        return try Observation(json: JSONValue.parse(line), isKnownSource: isKnownSource)
    }
}

/// Newline-delimited JSON files of records with ids, validated whole.
public enum NDJSON {
    /// Longest accepted line, bytes.
    public static let maximumLineBytes = 64 * 1024
    /// How many errors are listed before the rest are only counted.
    public static let maximumErrors = 100

    /// Why a file was rejected.
    public struct Rejection: Error, Sendable, CustomStringConvertible {
        /// The first ``NDJSON/maximumErrors`` errors, in line order.
        public var errors: [LineError]
        /// How many errors there were in all.
        public var totalErrors: Int
        public init(errors: [LineError], totalErrors: Int) {
            self.errors = errors
            self.totalErrors = totalErrors
        }

        public var description: String {
            var text = errors.map(\.description).joined(separator: "\n")
            if totalErrors > errors.count { text += "\n… and \(totalErrors - errors.count) more errors" }
            return text
        }
    }

    /// Parses every line with `decode`; blank lines are ignored, ids must be unique. Either every line is good or
    /// the result lists every error (line, field, reason).
    /// - Parameter what: the records' name in the plural, for "the file has no …".
    public static func parse<Record>(
        _ bytes: [UInt8], what: String, id: (Record) -> String, decode: (JSONValue) throws -> Record
    ) -> Result<(records: [Record], lineNumbers: [Int]), Rejection> {
        parseLines(bytes, what: what, id: id) { try decode(try JSONValue.parse($0)) }
    }

    /// Like ``parse(_:what:id:decode:)``, with each line's bytes decoded by `decode`.
    public static func parseLines<Record>(
        _ bytes: [UInt8], what: String, id: (Record) -> String,
        decode: (UnsafeBufferPointer<UInt8>) throws -> Record
    ) -> Result<(records: [Record], lineNumbers: [Int]), Rejection> {
        var errors: [LineError] = []
        var total = 0
        func record(_ error: LineError) {
            total += 1
            if errors.count < maximumErrors { errors.append(error) }
        }
        if bytes.isEmpty {
            return .failure(
                Rejection(
                    errors: [LineError(line: 0, field: "", reason: "the file is empty (0 bytes)")], totalErrors: 1))
        }
        var records: [Record] = []
        var lineNumbers: [Int] = []
        let expectedLines = bytes.reduce(into: 1) { count, byte in if byte == 0x0A { count += 1 } }
        records.reserveCapacity(expectedLines)
        lineNumbers.reserveCapacity(expectedLines)
        var firstLineOfId = [String: Int](minimumCapacity: expectedLines)
        var lineNumber = 0
        var start = 0
        bytes.withUnsafeBufferPointer { buffer in
            while start < buffer.count {
                lineNumber += 1
                var end = start
                while end < buffer.count && buffer[end] != 0x0A { end += 1 }
                var lineEnd = end
                if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = UnsafeBufferPointer(rebasing: buffer[start..<lineEnd])
                start = end + 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                if line.count > maximumLineBytes {
                    record(LineError(line: lineNumber, field: "", reason: "longer than \(maximumLineBytes) bytes"))
                    continue
                }
                do {
                    let decoded = try decode(line)
                    let key = id(decoded)
                    if let first = firstLineOfId[key] {
                        record(
                            LineError(
                                line: lineNumber, field: "id",
                                reason: "duplicate id \"\(key)\" (first on line \(first))"))
                        continue
                    }
                    firstLineOfId[key] = lineNumber
                    records.append(decoded)
                    lineNumbers.append(lineNumber)
                } catch let error as JSONParseError {
                    record(LineError(line: lineNumber, field: "", reason: error.description))
                } catch let error as FieldError {
                    record(LineError(line: lineNumber, field: error.path, reason: error.reason))
                } catch {
                    record(LineError(line: lineNumber, field: "", reason: "\(error)"))
                }
            }
        }
        if total == 0 && records.isEmpty {
            record(LineError(line: lineNumber, field: "", reason: "the file has no \(what)"))
        }
        if total > 0 { return .failure(Rejection(errors: errors, totalErrors: total)) }
        return .success((records, lineNumbers))
    }
}
