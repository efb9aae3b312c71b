/// Where the camera looks on a scene's plate at a moment of the scene: a crop rectangle that
/// pans, tilts or zooms across a plate drawn larger than the frame, eased in and out.
public enum CameraMove: String, Sendable, CaseIterable {
    case still = "static"
    case panLeft = "pan_left"
    case panRight = "pan_right"
    case tiltUp = "tilt_up"
    case tiltDown = "tilt_down"
    case zoomIn = "zoom_in"
    case zoomOut = "zoom_out"

    /// How much larger than the frame the plate is drawn: the room the camera has to move.
    public static let margin = 1.15

    /// The crop, in plate pixels, at `progress` (0…1) through the scene.
    func crop(plateWidth: Int, plateHeight: Int, frameWidth: Int, frameHeight: Int,
              progress: Double) -> (x: Double, y: Double, width: Double, height: Double) {
        let p = progress * progress * (3 - 2 * progress)
        let plateW = Double(plateWidth), plateH = Double(plateHeight)
        let baseW = Double(frameWidth), baseH = Double(frameHeight)
        let centreX = (plateW - baseW) / 2, centreY = (plateH - baseH) / 2
        switch self {
        case .still: return (centreX, centreY, baseW, baseH)
        case .panRight: return ((plateW - baseW) * p, centreY, baseW, baseH)
        case .panLeft: return ((plateW - baseW) * (1 - p), centreY, baseW, baseH)
        case .tiltUp: return (centreX, (plateH - baseH) * (1 - p), baseW, baseH)
        case .tiltDown: return (centreX, (plateH - baseH) * p, baseW, baseH)
        case .zoomIn, .zoomOut:
            let amount = self == .zoomIn ? p : 1 - p
            let width = plateW + (baseW - plateW) * amount, height = plateH + (baseH - plateH) * amount
            return ((plateW - width) / 2, (plateH - height) / 2, width, height)
        }
    }
}

/// Bilinear resampling of a rectangle of one image into the whole of another, in fixed point
/// and in two passes per output row: the two source rows are blended vertically into a row of
/// 8.8 fixed-point values, then that row is sampled horizontally. When the rectangle is the
/// frame's own size (pans, tilts, a still camera) every column has the same weight and the
/// horizontal pass is contiguous too. The contiguous passes work on SIMD vectors explicitly
/// (16 bytes, then 8 values, a step): the optimiser does not vectorise them on its own because
/// it cannot prove the buffers apart.
enum FrameResampler {
    static func resample(_ source: RGBImage, x: Double, y: Double, width: Double, height: Double, into frame: inout RGBImage) {
        let outW = frame.width, outH = frame.height
        let scaleX = width / Double(outW), scaleY = height / Double(outH)
        let maxX = source.width - 1, maxY = source.height - 1
        // Per column: the left source pixel's first byte and the weight (0…256) of the right one.
        var columns = [Int](repeating: 0, count: outW)
        var weights = [UInt32](repeating: 0, count: outW)
        for column in 0..<outW {
            let sx = max(0, min(Double(maxX), x + (Double(column) + 0.5) * scaleX - 0.5))
            let left = min(Int(sx), max(0, maxX - 1))
            columns[column] = left * 3
            weights[column] = UInt32(((sx - Double(left)) * 256).rounded())
        }
        // Uniform: consecutive source pixels with one weight, the right neighbour always inside.
        var uniform = columns[outW - 1] + 3 <= maxX * 3
        for column in 1..<outW where uniform {
            uniform = columns[column] == columns[0] + column * 3 && weights[column] == weights[0]
        }
        let sourceStride = source.width * 3
        // Room for a whole vector past the last value read.
        var blended = [UInt16](repeating: 0, count: sourceStride + 32)
        let first = columns[0], last = min(sourceStride, columns[outW - 1] + 6)
        source.pixels.withUnsafeBytes { src in
            frame.pixels.withUnsafeMutableBytes { dst in
                blended.withUnsafeMutableBufferPointer { row in
                    let rowBytes = UnsafeMutableRawBufferPointer(row)
                    for outRow in 0..<outH {
                        let sy = max(0, min(Double(maxY), y + (Double(outRow) + 0.5) * scaleY - 0.5))
                        let top = min(Int(sy), max(0, maxY - 1))
                        let fy = UInt16(((sy - Double(top)) * 256).rounded())
                        let a = top * sourceStride, b = min(top + 1, maxY) * sourceStride
                        verticalBlend(src, a: a, b: b, from: first, to: last, fy: fy, into: rowBytes, row: row)
                        let out = outRow * outW * 3
                        if uniform {
                            horizontalUniform(row: rowBytes, base: first, count: outW * 3, fx: weights[0], into: dst, at: out)
                        } else {
                            for column in 0..<outW {
                                let left = columns[column], fx = weights[column]
                                let right = left + 3 <= maxX * 3 ? left + 3 : left
                                let target = out + column * 3
                                for channel in 0..<3 {
                                    let value = UInt32(row[left + channel]) &* (256 &- fx) &+ UInt32(row[right + channel]) &* fx
                                    dst[target + channel] = UInt8(truncatingIfNeeded: (value &+ 32768) >> 16)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// row[i] = a[i]·(256 − fy) + b[i]·fy for i in from..<to (at most 65,280: fits 16 bits).
    @inline(__always)
    private static func verticalBlend(_ src: UnsafeRawBufferPointer, a: Int, b: Int, from: Int, to: Int, fy: UInt16,
                                      into rowBytes: UnsafeMutableRawBufferPointer, row: UnsafeMutableBufferPointer<UInt16>) {
        let keep = SIMD16<UInt16>(repeating: 256 &- fy), take = SIMD16<UInt16>(repeating: fy)
        var index = from
        while index + 16 <= to {
            let upper = SIMD16<UInt16>(truncatingIfNeeded: src.loadUnaligned(fromByteOffset: a + index, as: SIMD16<UInt8>.self))
            let lower = SIMD16<UInt16>(truncatingIfNeeded: src.loadUnaligned(fromByteOffset: b + index, as: SIMD16<UInt8>.self))
            rowBytes.storeBytes(of: upper &* keep &+ lower &* take, toByteOffset: index * 2, as: SIMD16<UInt16>.self)
            index += 16
        }
        while index < to {
            row[index] = UInt16(src[a + index]) &* (256 &- fy) &+ UInt16(src[b + index]) &* fy
            index += 1
        }
    }

    /// dst[at + j] = round((row[base + j]·(256 − fx) + row[base + j + 3]·fx) / 65536) for j in 0..<count.
    @inline(__always)
    private static func horizontalUniform(row rowBytes: UnsafeMutableRawBufferPointer, base: Int, count: Int, fx: UInt32,
                                          into dst: UnsafeMutableRawBufferPointer, at out: Int) {
        let keep = SIMD8<UInt32>(repeating: 256 &- fx), take = SIMD8<UInt32>(repeating: fx)
        let half = SIMD8<UInt32>(repeating: 32768)
        var j = 0
        while j + 8 <= count {
            let left = SIMD8<UInt32>(truncatingIfNeeded: rowBytes.loadUnaligned(fromByteOffset: (base + j) * 2, as: SIMD8<UInt16>.self))
            let right = SIMD8<UInt32>(truncatingIfNeeded: rowBytes.loadUnaligned(fromByteOffset: (base + j + 3) * 2, as: SIMD8<UInt16>.self))
            let value = (left &* keep &+ right &* take &+ half) &>> 16
            dst.storeBytes(of: SIMD8<UInt8>(truncatingIfNeeded: value), toByteOffset: out + j, as: SIMD8<UInt8>.self)
            j += 8
        }
        while j < count {
            let left = UInt32(rowBytes.load(fromByteOffset: (base + j) * 2, as: UInt16.self))
            let right = UInt32(rowBytes.load(fromByteOffset: (base + j + 3) * 2, as: UInt16.self))
            dst[out + j] = UInt8(truncatingIfNeeded: (left &* (256 &- fx) &+ right &* fx &+ 32768) >> 16)
            j += 1
        }
    }
}
