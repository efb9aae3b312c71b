/// Lower-case hexadecimal, the form digests, signatures and key hashes take everywhere.
///
/// Written out by table: `String(format: "%02x")` per byte went through CoreFoundation's
/// formatter and was 15 % of the CPU time of an authenticated request.
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// `#RRGGBB` (upper case, as palettes are written) for channels 0…255.
    public static func colour(red: Int, green: Int, blue: Int) -> String {
        let value = (red & 0xFF) << 16 | (green & 0xFF) << 8 | (blue & 0xFF)
        let digits = String(value, radix: 16, uppercase: true)
        return "#" + String(repeating: "0", count: 6 - digits.count) + digits
    }
}
