import Crypto
public import Foundation

/// What the log records about one generated job: who made it, with which model, from which
/// prompt, parameters and inputs, and which files came out — hashes only, never the prompt.
public struct LedgerEntry: Hashable, Sendable {
    /// The entry format; bumped when a field's meaning changes.
    public static let formatVersion: Int64 = 1

    public struct Input: Hashable, Sendable {
        public var uploadID: String
        public var sha256: String
        public init(uploadID: String, sha256: String) {
            self.uploadID = uploadID
            self.sha256 = sha256
        }
    }

    public struct Output: Hashable, Sendable {
        public var name: String
        public var contentType: String
        public var sha256: String
        public init(name: String, contentType: String, sha256: String) {
            self.name = name
            self.contentType = contentType
            self.sha256 = sha256
        }
    }

    public var jobID: String
    public var parentJobID: String?
    public var creatorID: String
    public var kind: String
    public var modelID: String
    public var modelVersion: String
    public var promptSHA256: String
    public var paramsSHA256: String
    public var inputs: [Input]
    public var outputs: [Output]
    /// Microseconds since 1970, as the store keeps them.
    public var createdAtMicros: Int64
    public var completedAtMicros: Int64

    public init(jobID: String, parentJobID: String?, creatorID: String, kind: String, modelID: String,
                modelVersion: String, promptSHA256: String, paramsSHA256: String, inputs: [Input], outputs: [Output],
                createdAtMicros: Int64, completedAtMicros: Int64) {
        self.jobID = jobID
        self.parentJobID = parentJobID
        self.creatorID = creatorID
        self.kind = kind
        self.modelID = modelID
        self.modelVersion = modelVersion
        self.promptSHA256 = promptSHA256
        self.paramsSHA256 = paramsSHA256
        self.inputs = inputs
        self.outputs = outputs
        self.createdAtMicros = createdAtMicros
        self.completedAtMicros = completedAtMicros
    }

    public var json: CanonicalJSON {
        var members: CanonicalJSON.Members = [
            "v": .integer(Self.formatVersion),
            "job_id": .string(jobID),
            "creator_id": .string(creatorID),
            "kind": .string(kind),
            "model": .object(["id": .string(modelID), "version": .string(modelVersion)]),
            "prompt_sha256": .string(promptSHA256),
            "params_sha256": .string(paramsSHA256),
            "inputs": .array(inputs.map { .object(["upload_id": .string($0.uploadID), "sha256": .string($0.sha256)]) }),
            "outputs": .array(outputs.map {
                .object(["name": .string($0.name), "content_type": .string($0.contentType), "sha256": .string($0.sha256)])
            }),
            "created_at": .string(Self.rfc3339(micros: createdAtMicros)),
            "completed_at": .string(Self.rfc3339(micros: completedAtMicros)),
        ]
        if let parentJobID { members.add("parent_job_id", .string(parentJobID)) }
        return .object(members)
    }

    /// The exact bytes the log stores and hashes.
    public var bytes: [UInt8] { json.bytes }

    /// Lower-case hex SHA-256.
    public static func sha256Hex(_ bytes: some DataProtocol) -> String {
        MerkleHash.hex(SHA256.hash(data: bytes))
    }

    /// RFC 3339 in UTC with microseconds, computed from the integer so it never rounds.
    public static func rfc3339(micros: Int64) -> String {
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = micros - seconds * 1_000_000
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        return padded(Int(parts.tm_year) + 1900, 4) + "-" + padded(Int(parts.tm_mon) + 1, 2) + "-" + padded(Int(parts.tm_mday), 2)
            + "T" + padded(Int(parts.tm_hour), 2) + ":" + padded(Int(parts.tm_min), 2) + ":" + padded(Int(parts.tm_sec), 2)
            + "." + padded(Int(fraction), 6) + "Z"
    }
}

/// The fields of an entry as a verifier reads them back (the entry's JSON is canonical, so
/// any JSON reader will do).
public struct LedgerEntryReading: Decodable, Sendable {
    public struct Output: Decodable, Sendable {
        public var name: String
        public var content_type: String
        public var sha256: String
    }
    public var v: Int
    public var job_id: String
    public var creator_id: String
    public var outputs: [Output]

    public init(bytes: some DataProtocol) throws(LedgerError) {
        do { self = try JSONDecoder().decode(Self.self, from: Data(bytes)) } catch {
            throw LedgerError("the entry is not a ledger entry: \(error)")
        }
    }
}
