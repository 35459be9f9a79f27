import Foundation
import GuarantorCore
import GuarantorStore
import Hummingbird

/// For auditors: signed checkpoints, witnesses' cosignatures, inclusion and consistency proofs, log entries.
extension GuarantorAPI {
    func signedJSON(_ signed: SignedCheckpoint) -> JSONValue {
        guard case .object(var members) = signed.json else { return signed.json }
        members["published"] = .bool(signed.cosignatures.count >= integrity.quorum)
        return .object(members)
    }

    func checkpointList() throws -> Response {
        let all = try state.store.checkpoints()
        let value: JSONValue = .object([
            "latest": all.last.map { signedJSON($0.signed) } ?? .null,
            "quorum": .number(Double(integrity.quorum)),
            "checkpoints": .array(
                all.map {
                    .object([
                        "size": .number(Double($0.signed.checkpoint.size)),
                        "cosignedBy": .array($0.signed.cosignatures.keys.sorted().map { .string($0) }),
                    ])
                }),
        ])
        return Self.json(Array(value.prettyPrinted.utf8))
    }

    func makeCheckpoint() async throws -> Response {
        guard let signingKey else {
            throw APIError(.conflict, "this server has no signing key (guarantor serve --signing-key FILE)")
        }
        let signed = try await state.checkpoint(key: signingKey, index: merkle, time: WallClock.now())
        return Self.json(Array(signedJSON(signed).prettyPrinted.utf8), status: .created)
    }

    func storedCheckpoint(_ request: Request) throws -> SignedCheckpoint {
        let text = request.uri.path.split(separator: "/").dropFirst().first.map(String.init) ?? ""
        guard let size = Int(text), size >= 0 else {
            throw APIError(.badRequest, "size: \"\(text)\" is not a whole number")
        }
        guard let stored = try state.store.checkpoints(size: size).first else {
            throw APIError(.notFound, "no checkpoint of size \(size)")
        }
        return stored.signed
    }

    func checkpoint(_ request: Request) throws -> Response {
        try Self.noParameters(request)
        return Self.json(Array(signedJSON(try storedCheckpoint(request)).prettyPrinted.utf8))
    }

    func cosign(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> Response {
        try Self.noParameters(request)
        let signed = try storedCheckpoint(request)
        guard let key = integrity.witnesses[caller.member] else {
            throw APIError(.forbidden, "\(caller.member) has no witness key in integrity.json")
        }
        let body = try await body(request)
        let signature: [UInt8]
        do {
            let f = try JSONFields(try JSONValue.parse(body))
            try f.rejectUnknown(["signature"])
            guard let bytes = Data(base64Encoded: try f.string("signature")) else {
                throw FieldError(path: "signature", reason: "not base64")
            }
            signature = Array(bytes)
        } catch let error as FieldError {
            throw APIError(.badRequest, error.description)
        } catch {
            throw APIError(.badRequest, "\(error)")
        }
        guard SigningKeys.isValid(signature, of: signed.checkpoint.body, by: key) else {
            throw APIError(
                .unprocessableContent,
                "not \(caller.member)'s witness signature of checkpoint \(signed.checkpoint.size)")
        }
        try state.store.addCosignature(size: signed.checkpoint.size, member: caller.member, signature: signature)
        let updated = try state.store.checkpoints(size: signed.checkpoint.size).first!.signed
        return Self.json(Array(signedJSON(updated).prettyPrinted.utf8), status: .created)
    }

    func inclusionProof(_ request: Request) throws -> Response {
        try Self.allowParameters(request, ["sequence", "size"])
        let tree = try merkle.current()
        guard tree.size > 0 else { throw APIError(.notFound, "the log is empty") }
        let size = try Self.integer(request, "size", in: 1...tree.size)
        let sequence = try Self.integer(request, "sequence", in: 1...size)
        let value: JSONValue = .object([
            "sequence": .number(Double(sequence)), "size": .number(Double(size)),
            "root": .string(EventChain.hex(tree.root(size: size))),
            "proof": .array(tree.inclusionProof(index: sequence - 1, size: size).map { .string(EventChain.hex($0)) }),
        ])
        return Self.json(Array(value.prettyPrinted.utf8))
    }

    func consistencyProof(_ request: Request) throws -> Response {
        try Self.allowParameters(request, ["from", "to"])
        let tree = try merkle.current()
        let to = try Self.integer(request, "to", in: 0...tree.size)
        let from = try Self.integer(request, "from", in: 0...to)
        let value: JSONValue = .object([
            "from": .number(Double(from)), "to": .number(Double(to)),
            "proof": .array(tree.consistencyProof(old: from, new: to).map { .string(EventChain.hex($0)) }),
        ])
        return Self.json(Array(value.prettyPrinted.utf8))
    }

    func logEntry(_ request: Request, _ caller: EventStore.KeyHolder) throws -> Response {
        try Self.noParameters(request)
        let text = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
        guard let sequence = Int64(text), sequence >= 1 else {
            throw APIError(.badRequest, "sequence: \"\(text)\" is not a whole number ≥ 1")
        }
        guard let event = try state.store.event(sequence: sequence) else {
            throw APIError(.notFound, "no event \(sequence)")
        }
        var members: [String: JSONValue] = [
            "sequence": .number(Double(sequence)), "kind": .string(event.kind),
            "leafHash": .string(EventChain.hex(event.leafHash)),
        ]
        var payload = try JSONValue.parse(event.payload)
        let hidden = try state.store.redactions()[sequence] ?? []
        if event.kind == EventKind.observation.rawValue,
            let o = try? Observation(json: payload, isKnownSource: { _ in true }),
            !Releasability.canRead(member: caller.member, o)
        {
            members["withheld"] = .string("an observation this member may not read (\(o.tlp?.rawValue ?? "GREEN"))")
        } else {
            if case .object(var fields) = payload {
                for field in hidden { fields[field] = nil }
                payload = .object(fields)
            }
            members["payload"] = payload
            members["redacted"] = .array(hidden.sorted().map { .string($0) })
        }
        return Self.json(Array(JSONValue.object(members).prettyPrinted.utf8))
    }

}
