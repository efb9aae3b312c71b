@testable import AtelierMedia
import Testing

@Suite("Resampling a crop of the plate into a frame")
struct FrameResamplerTests {
    /// A picture with detail in every channel, so a wrong tap or weight shows.
    func plate(width: Int, height: Int) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let index = (y * width + x) * 3
                image.pixels[index] = UInt8((x * 37 + y * 11) % 256)
                image.pixels[index + 1] = UInt8((x * x + 3 * y) % 256)
                image.pixels[index + 2] = UInt8((y * y * 5 + x) % 256)
            }
        }
        return image
    }

    /// Bilinear sampling in floating point, with the same pixel-centre convention.
    func reference(_ source: RGBImage, x: Double, y: Double, width: Double, height: Double, outW: Int, outH: Int) -> [Double] {
        var result: [Double] = []
        for row in 0..<outH {
            let sy = max(0, min(Double(source.height - 1), y + (Double(row) + 0.5) * height / Double(outH) - 0.5))
            let y0 = min(Int(sy), source.height - 2), fy = sy - Double(y0)
            for column in 0..<outW {
                let sx = max(0, min(Double(source.width - 1), x + (Double(column) + 0.5) * width / Double(outW) - 0.5))
                let x0 = min(Int(sx), source.width - 2), fx = sx - Double(x0)
                for channel in 0..<3 {
                    func at(_ px: Int, _ py: Int) -> Double { Double(source.pixels[(py * source.width + px) * 3 + channel]) }
                    let top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx
                    let bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx
                    result.append(top * (1 - fy) + bottom * fy)
                }
            }
        }
        return result
    }

    @Test("pans at the frame's own size and zooms both match floating-point bilinear sampling within one level",
          arguments: [(3.25, 2.5, 32.0, 24.0), (0.0, 0.0, 32.0, 24.0), (17.75, 15.0, 32.0, 24.0),
                      (0.0, 0.0, 50.0, 40.0), (4.4, 3.3, 40.0, 30.0), (1.0, 1.0, 20.0, 15.0)])
    func matchesReference(x: Double, y: Double, width: Double, height: Double) {
        let source = plate(width: 50, height: 40)
        var frame = RGBImage(width: 32, height: 24)
        FrameResampler.resample(source, x: x, y: y, width: width, height: height, into: &frame)
        let expected = reference(source, x: x, y: y, width: width, height: height, outW: 32, outH: 24)
        let worst = zip(frame.pixels, expected).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst <= 1.01, "worst difference \(worst)")
    }
}
