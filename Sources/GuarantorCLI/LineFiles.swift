import Foundation
import GuarantorCore

#if canImport(Glibc)
    import Glibc
#endif

/// A file written through a buffer.
final class BufferedFile {
    private let file: UnsafeMutablePointer<FILE>
    let path: String
    private var buffer: [UInt8] = []
    private let capacity = 4 << 20
    /// Bytes written so far.
    private(set) var offset = 0

    init(path: String) throws {
        guard let file = fopen(path, "wb") else { throw CLIError("cannot write \(path)") }
        self.file = file
        self.path = path
        buffer.reserveCapacity(capacity)
    }

    deinit { fclose(file) }

    func write(_ bytes: [UInt8]) {
        buffer += bytes
        offset += bytes.count
        if buffer.count >= capacity { flush() }
    }

    func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        buffer.append(contentsOf: bytes)
        offset += bytes.count
        if buffer.count >= capacity { flush() }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        _ = buffer.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes; the file is complete on disk.
    func close() throws {
        flush()
        guard fflush(file) == 0 else { throw CLIError("cannot write \(path)") }
    }
}

/// Reads a file in chunks and hands each line (without its newline or carriage return) to a closure, with its
/// 1-based number, so that a file of any size is read in bounded memory.
enum LineReader {
    static let chunkBytes = 8 << 20

    /// - Throws: ``CLIError`` when the file cannot be read.
    static func forEachLine(
        of path: String, _ body: (_ line: UnsafeBufferPointer<UInt8>, _ number: Int) throws -> Void
    ) throws {
        guard let file = fopen(path, "rb") else { throw CLIError("cannot read \(path): no such file") }
        defer { fclose(file) }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: chunkBytes)
        var number = 0
        while true {
            let count = chunk.withUnsafeMutableBufferPointer { fread($0.baseAddress, 1, chunkBytes, file) }
            if count == 0 {
                if ferror(file) != 0 { throw CLIError("cannot read \(path)") }
                break
            }
            try chunk.withUnsafeBufferPointer { all in
                let buffer = UnsafeBufferPointer(rebasing: all[0..<count])
                var start = 0
                for i in 0..<buffer.count where buffer[i] == 0x0A {
                    number += 1
                    if pending.isEmpty {
                        try body(trimmed(UnsafeBufferPointer(rebasing: buffer[start..<i])), number)
                    } else {
                        append(UnsafeBufferPointer(rebasing: buffer[start..<i]), to: &pending)
                        try pending.withUnsafeBufferPointer { try body(trimmed($0), number) }
                        pending.removeAll(keepingCapacity: true)
                    }
                    start = i + 1
                }
                append(UnsafeBufferPointer(rebasing: buffer[start..<buffer.count]), to: &pending)
            }
        }
        if !pending.isEmpty {
            number += 1
            try pending.withUnsafeBufferPointer { try body(trimmed($0), number) }
        }
    }

    /// Keeps a line that spans chunks, up to just past the longest line accepted (a longer one is refused anyway).
    private static func append(_ bytes: UnsafeBufferPointer<UInt8>, to pending: inout [UInt8]) {
        let room = NDJSON.maximumLineBytes + 2 - pending.count
        guard room > 0 else { return }
        pending.append(contentsOf: bytes.prefix(room))
    }

    private static func trimmed(_ line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        if let last = line.last, last == 0x0D { return UnsafeBufferPointer(rebasing: line.dropLast()) }
        return line
    }
}

/// A file read through a buffer, for copying its bytes on in pieces.
final class BufferedReader {
    private let file: UnsafeMutablePointer<FILE>
    private let path: String
    private var buffer = [UInt8](repeating: 0, count: 4 << 20)
    private var start = 0
    private var end = 0

    init(path: String) throws {
        guard let file = fopen(path, "rb") else { throw CLIError("cannot read \(path)") }
        self.file = file
        self.path = path
    }

    deinit { fclose(file) }

    /// Copies the next `count` bytes to `out`.
    func copy(_ count: Int, to out: BufferedFile) throws {
        var left = count
        while left > 0 {
            if start == end {
                end = buffer.withUnsafeMutableBufferPointer { fread($0.baseAddress, 1, $0.count, file) }
                start = 0
                guard end > 0 else { throw CLIError("\(path) ended early") }
            }
            let n = min(left, end - start)
            buffer.withUnsafeBufferPointer { out.write(UnsafeBufferPointer(rebasing: $0[start..<start + n])) }
            start += n
            left -= n
        }
    }
}
