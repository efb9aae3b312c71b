/// A JSON value written in the canonical form of RFC 8785 (JCS): object members sorted by
/// their keys' UTF-16 code units, no insignificant whitespace, strings escaped as ECMAScript's
/// JSON.stringify does. Numbers are integers only — the log never holds a float, so the
/// ECMAScript number formatting rules never come into play.
public indirect enum CanonicalJSON: Hashable, Sendable {
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case null
    case array([CanonicalJSON])
    case object(Members)

    /// An object's members, written as a dictionary literal; keys must be unique. Kept as two
    /// arrays rather than a dictionary: entries are built at volume and hashing every key
    /// cost more than sorting a dozen of them.
    public struct Members: Hashable, Sendable, ExpressibleByDictionaryLiteral {
        var keys: [String]
        var values: [CanonicalJSON]

        public init(dictionaryLiteral elements: (String, CanonicalJSON)...) {
            keys = elements.map(\.0)
            values = elements.map(\.1)
        }

        public mutating func add(_ key: String, _ value: CanonicalJSON) {
            keys.append(key)
            values.append(value)
        }
    }

    /// The canonical UTF-8 bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        write(into: &out)
        return out
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    private func write(into out: inout [UInt8]) {
        switch self {
        case .string(let value): Self.writeString(value, into: &out)
        case .integer(let value): out.append(contentsOf: String(value).utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .null: out.append(contentsOf: "null".utf8)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (i, value) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let order = Self.sortedOrder(members.keys)
            for (i, index) in order.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(members.keys[index], into: &out)
                out.append(UInt8(ascii: ":"))
                members.values[index].write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The indexes of `keys` in RFC 8785 order (UTF-16 code units). When every key is ASCII
    /// (the usual case) that is byte order, compared without transcoding.
    private static func sortedOrder(_ keys: [String]) -> [Int] {
        if keys.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) {
            let bytes = keys.map { Array($0.utf8) }
            return bytes.indices.sorted { bytes[$0].lexicographicallyPrecedes(bytes[$1]) }
        }
        return keys.indices.sorted { keys[$0].utf16.lexicographicallyPrecedes(keys[$1].utf16) }
    }

    private static func writeString(_ value: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var value = value
        let plain = value.withUTF8 { bytes in
            bytes.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        }
        if plain {
            value.withUTF8 { out.append(contentsOf: $0) }
            out.append(UInt8(ascii: "\""))
            return
        }
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00 ..< 0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
