import Foundation

/// Anti-aliased drawing primitives over an RGB pixel buffer. Each primitive touches only the
/// pixels of its bounding box, which keeps overlays cheap next to the full-frame passes.
struct Canvas {
    let buffer: UnsafeMutableBufferPointer<UInt8>
    let width: Int
    let height: Int

    @inline(__always)
    func blend(_ x: Int, _ y: Int, _ colour: Colour, _ alpha: Float) {
        guard alpha > 0.0039 else { return }
        let index = (y * width + x) * 3
        let a = min(1, alpha)
        let keep = 1 - a
        buffer[index] = UInt8(min(255, Float(buffer[index]) * keep + colour.r * 255 * a))
        buffer[index + 1] = UInt8(min(255, Float(buffer[index + 1]) * keep + colour.g * 255 * a))
        buffer[index + 2] = UInt8(min(255, Float(buffer[index + 2]) * keep + colour.b * 255 * a))
    }

    /// Adds light rather than covering: glows, beams, sparkles.
    @inline(__always)
    func add(_ x: Int, _ y: Int, _ colour: Colour, _ amount: Float) {
        guard amount > 0.0039 else { return }
        let index = (y * width + x) * 3
        buffer[index] = UInt8(min(255, Float(buffer[index]) + colour.r * 255 * amount))
        buffer[index + 1] = UInt8(min(255, Float(buffer[index + 1]) + colour.g * 255 * amount))
        buffer[index + 2] = UInt8(min(255, Float(buffer[index + 2]) + colour.b * 255 * amount))
    }

    func rows(_ low: Float, _ high: Float) -> Range<Int> {
        let first = max(0, Int(low.rounded(.down)))
        let last = min(height, Int(high.rounded(.up)) + 1)
        return first..<max(first, last)
    }

    func columns(_ low: Float, _ high: Float) -> Range<Int> {
        let first = max(0, Int(low.rounded(.down)))
        let last = min(width, Int(high.rounded(.up)) + 1)
        return first..<max(first, last)
    }

    func fillEllipse(_ cx: Float, _ cy: Float, _ rx: Float, _ ry: Float, _ colour: Colour, alpha: Float = 1,
                     where visible: (Int, Int) -> Bool = { _, _ in true }) {
        guard rx > 0, ry > 0 else { return }
        let edge = min(rx, ry)
        for y in rows(cy - ry - 1, cy + ry + 1) {
            let ny = (Float(y) + 0.5 - cy) / ry
            for x in columns(cx - rx - 1, cx + rx + 1) where visible(x, y) {
                let nx = (Float(x) + 0.5 - cx) / rx
                let distance = (nx * nx + ny * ny).squareRoot()
                blend(x, y, colour, alpha * max(0, min(1, (1 - distance) * edge + 0.5)))
            }
        }
    }

    /// Fills a convex polygon given in either winding.
    func fillPolygon(_ points: [(Float, Float)], _ colour: Colour, alpha: Float = 1) {
        guard points.count >= 3 else { return }
        var area: Float = 0
        for i in points.indices {
            let (x0, y0) = points[i]
            let (x1, y1) = points[(i + 1) % points.count]
            area += x0 * y1 - x1 * y0
        }
        let sign: Float = area >= 0 ? 1 : -1
        // Each edge as a normalised line equation a·x + b·y + c = signed distance (inside > 0).
        let edges: [(Float, Float, Float)] = points.indices.map { i in
            let (x0, y0) = points[i]
            let (x1, y1) = points[(i + 1) % points.count]
            let length = max(0.0001, ((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)).squareRoot())
            let a = -(y1 - y0) / length * sign
            let b = (x1 - x0) / length * sign
            return (a, b, -(a * x0 + b * y0))
        }
        let xs = points.map(\.0)
        let ys = points.map(\.1)
        for y in rows(ys.min()! - 1, ys.max()! + 1) {
            let py = Float(y) + 0.5
            for x in columns(xs.min()! - 1, xs.max()! + 1) {
                let px = Float(x) + 0.5
                var inside = Float.greatestFiniteMagnitude
                for (a, b, c) in edges { inside = min(inside, a * px + b * py + c) }
                blend(x, y, colour, alpha * max(0, min(1, inside + 0.5)))
            }
        }
    }

    func fillRect(_ x0: Float, _ y0: Float, _ x1: Float, _ y1: Float, _ colour: Colour, alpha: Float = 1) {
        fillPolygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], colour, alpha: alpha)
    }

    /// A soft radial light with quadratic falloff.
    func glow(_ cx: Float, _ cy: Float, radius: Float, _ colour: Colour, strength: Float,
              weight: (Int, Int) -> Float = { _, _ in 1 }) {
        let inverse = 1 / (radius * radius)
        for y in rows(cy - radius, cy + radius) {
            let dy = Float(y) + 0.5 - cy
            for x in columns(cx - radius, cx + radius) {
                let dx = Float(x) + 0.5 - cx
                let t = 1 - (dx * dx + dy * dy) * inverse
                if t > 0 { add(x, y, colour, strength * t * t * weight(x, y)) }
            }
        }
    }
}
