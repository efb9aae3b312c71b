/// A time-ordered UUID (RFC 9562, version 7): 48 bits of Unix milliseconds, then a 12-bit
/// sequence that keeps ids from one generator strictly increasing, then 62 random bits.
public struct UUIDv7: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(milliseconds: UInt64, sequence: UInt16, random: UInt64) {
        high = (milliseconds & 0xFFFF_FFFF_FFFF) << 16 | 0x7000 | UInt64(sequence & 0x0FFF)
        low = 0x8000_0000_0000_0000 | (random & 0x3FFF_FFFF_FFFF_FFFF)
    }

    /// The Unix time in milliseconds encoded in the id.
    public var milliseconds: UInt64 { high >> 16 }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// Lower-case 8-4-4-4-12 form; lexicographic order of these strings equals time order.
    public var description: String {
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (index, shift) in stride(from: 60, through: 0, by: -4).enumerated() {
            if index == 8 || index == 12 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int((high >> UInt64(shift)) & 0xF)])
        }
        for (index, shift) in stride(from: 60, through: 0, by: -4).enumerated() {
            if index == 0 || index == 4 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int((low >> UInt64(shift)) & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
