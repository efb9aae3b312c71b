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
}
