import CZlib
public import Foundation

/// Encodes RGB images as PNG (8-bit truecolour, no interlace) with zlib's deflate.
public enum PNGEncoder {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var zlibStatus: Int32
        public var description: String { "zlib failed with status \(zlibStatus)" }
    }

    /// - Parameter level: zlib compression level, 1 (fastest) … 9 (smallest). Rendered art is
    ///   smooth, so low levels already compress it well.
    public static func encode(_ image: RGBImage, level: Int32 = 2) throws -> Data {
        let stride = image.width * 3
        // Each scanline is prefixed with its filter type; "Sub" (1) suits smooth gradients and
        // costs one subtraction a byte.
        var filtered = [UInt8](repeating: 0, count: (stride + 1) * image.height)
        image.pixels.withUnsafeBufferPointer { source in
            filtered.withUnsafeMutableBufferPointer { target in
                for y in 0..<image.height {
                    let input = y * stride, output = y * (stride + 1)
                    target[output] = 1
                    for i in 0..<3 { target[output + 1 + i] = source[input + i] }
                    var i = 3
                    while i < stride {
                        target[output + 1 + i] = source[input + i] &- source[input + i - 3]
                        i += 1
                    }
                }
            }
        }
        var compressedLength = compressBound(uLong(filtered.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedLength))
        let status = compress2(&compressed, &compressedLength, filtered, uLong(filtered.count), level)
        guard status == Z_OK else { throw Failure(zlibStatus: status) }

        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = Data()
        header.appendBigEndian(UInt32(image.width))
        header.appendBigEndian(UInt32(image.height))
        header.append(contentsOf: [8, 2, 0, 0, 0])  // bit depth 8, truecolour, deflate, adaptive, no interlace
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", Data(compressed[0..<Int(compressedLength)]), to: &png)
        appendChunk("IEND", Data(), to: &png)
        return png
    }

    private static func appendChunk(_ type: String, _ body: Data, to png: inout Data) {
        png.appendBigEndian(UInt32(body.count))
        let typeBytes = Data(type.utf8)
        png.append(typeBytes)
        png.append(body)
        var crc = crc32(0, nil, 0)
        typeBytes.withUnsafeBytes { crc = crc32(crc, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count)) }
        body.withUnsafeBytes { crc = crc32(crc, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count)) }
        png.appendBigEndian(UInt32(crc))
    }
}

extension Data {
    mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }
}
