import AtelierCore
import Foundation

/// The built-in model: turns a prompt into a composed landscape with its subjects.
///
/// Deterministic: the same prompt, negative prompt, seed, size and time give byte-identical
/// pixels on every run. Light, weather and setting words choose the palette and terrain; colour
/// words tint it; nouns become subjects; the seed decides the layout. `time` (0…1) animates a
/// seamless loop: clouds drift, water ripples, snow falls, beams turn.
public struct ProceduralRenderer: Sendable {
    public init() {}

    public func render(prompt: String, negativePrompt: String? = nil, width: Int, height: Int, seed: UInt32,
                       time: Double = 0) -> RGBImage {
        let scene = Scene(reading: PromptReading(prompt: prompt, negativePrompt: negativePrompt), seed: seed)
        var image = RGBImage(width: width, height: height)
        let t = Float(time - time.rounded(.down))
        image.pixels.withUnsafeMutableBufferPointer { buffer in
            let canvas = Canvas(buffer: buffer, width: width, height: height)
            let terrain = Terrain(scene: scene, width: width, height: height)
            drawBase(canvas, scene: scene, terrain: terrain, t: t)
            drawSky(canvas, scene: scene, terrain: terrain, t: t)
            MotifPainter(canvas: canvas, scene: scene, terrain: terrain, t: t).paint()
            drawWeather(canvas, scene: scene, t: t)
            vignette(canvas)
        }
        return image
    }

    /// Ridge lines per column, in pixels.
    struct Terrain {
        var farTop: [Int32]
        var nearTop: [Int32]
        var horizon: Int

        init(scene: Scene, width: Int, height: Int) {
            let h = Float(height)
            farTop = (0..<width).map { x in
                Int32(max(0, min(h, scene.far.height(at: (Float(x) + 0.5) / Float(width)) * h)))
            }
            nearTop = (0..<width).map { x in
                Int32(max(0, min(h, scene.near.height(at: (Float(x) + 0.5) / Float(width)) * h)))
            }
            horizon = Int(scene.horizon * h)
        }

        func isSky(_ x: Int, _ y: Int) -> Bool { y < Int(farTop[x]) }
    }

    /// Sky, far ridge, water and near ground in one pass over precomputed row colours.
    private func drawBase(_ canvas: Canvas, scene: Scene, terrain: Terrain, t: Float) {
        let width = canvas.width, height = canvas.height
        let palette = scene.palette
        let horizon = max(1, terrain.horizon)
        func bytes(_ colour: Colour) -> (UInt8, UInt8, UInt8) {
            (UInt8(max(0, min(255, colour.r * 255))), UInt8(max(0, min(255, colour.g * 255))),
             UInt8(max(0, min(255, colour.b * 255))))
        }
        let sky = (0..<height).map { y -> (UInt8, UInt8, UInt8) in
            let u = min(1, Float(y) / Float(horizon))
            return bytes(palette.skyTop.mixed(with: palette.skyHorizon, u * u * (3 - 2 * u)))
        }
        let far = (0..<height).map { y -> (UInt8, UInt8, UInt8) in
            let depth = min(1, max(0, Float(y - horizon) / Float(height) * 3 + 0.5))
            return bytes(palette.far.mixed(with: palette.skyHorizon, 0.25 * (1 - depth)).scaled(0.9 + 0.1 * depth))
        }
        let near = (0..<height).map { y -> (UInt8, UInt8, UInt8) in
            let depth = min(1, max(0, Float(y - horizon) / Float(max(1, height - horizon))))
            return bytes(palette.near.mixed(with: palette.ground, depth).scaled(1 - 0.25 * depth))
        }
        let water = (0..<height).map { y -> (UInt8, UInt8, UInt8) in
            let mirrored = max(0, min(height - 1, 2 * horizon - y))
            let (r, g, b) = sky[mirrored]
            let reflected = Colour(Float(r) / 255, Float(g) / 255, Float(b) / 255)
            let depth = min(1, max(0, Float(y - horizon) / Float(max(1, height - horizon))))
            return bytes(reflected.mixed(with: Colour(hex: 0x10_2A_44), 0.25 + 0.45 * depth))
        }
        // Ripples: a periodic brightness table, shifted per row and per frame.
        let phase = Int(t * 256)
        let ripple = (0..<256).map { i -> Int32 in Int32(10 * sinf(Float(i) / 256 * 2 * .pi * 3)) }
        let buffer = canvas.buffer
        let hasWater = scene.hasWater
        for y in 0..<height {
            let row = y * width * 3
            let s = sky[y], f = far[y], n = near[y], w = water[y]
            let rowShift = (y * y / max(1, height / 8) + phase) & 255
            let rippleScale = Int32(1 + 3 * max(0, y - horizon) / max(1, height - horizon))
            for x in 0..<width {
                let index = row + x * 3
                let farTop = Int(terrain.farTop[x]), nearTop = Int(terrain.nearTop[x])
                if y < farTop {
                    buffer[index] = s.0; buffer[index + 1] = s.1; buffer[index + 2] = s.2
                } else if y >= nearTop {
                    buffer[index] = n.0; buffer[index + 1] = n.1; buffer[index + 2] = n.2
                } else if hasWater && y >= horizon {
                    let delta = ripple[(x / 3 + rowShift) & 255] * rippleScale / 2
                    buffer[index] = UInt8(clamping: Int32(w.0) + delta)
                    buffer[index + 1] = UInt8(clamping: Int32(w.1) + delta)
                    buffer[index + 2] = UInt8(clamping: Int32(w.2) + delta)
                } else {
                    buffer[index] = f.0; buffer[index + 1] = f.1; buffer[index + 2] = f.2
                }
            }
        }
    }

    /// Sun or moon with its glow (behind the ridges), stars and drifting clouds.
    private func drawSky(_ canvas: Canvas, scene: Scene, terrain: Terrain, t: Float) {
        let w = Float(canvas.width), h = Float(canvas.height)
        let unit = min(w, h)
        let palette = scene.palette
        let cx = scene.sunCentre.x * w, cy = scene.sunCentre.y * h
        let radius = scene.sunRadius * unit
        if scene.reading.light == .night {
            var random = SplitMix64(seed: scene.seed ^ 0x5354_4152)
            let count = canvas.width * canvas.height / 900
            for _ in 0..<count {
                let x = Int(random.unitFloat() * w), y = Int(random.unitFloat() * Float(terrain.horizon))
                let twinkle = 0.55 + 0.45 * sinf(2 * .pi * (t + random.unitFloat()))
                if x < canvas.width, y < canvas.height, terrain.isSky(x, y) {
                    canvas.add(x, y, Colour(1, 1, 0.95), random.unitFloat() * twinkle)
                }
            }
        }
        canvas.glow(cx, cy, radius: radius * 6, palette.sun, strength: scene.reading.light == .night ? 0.25 : 0.45) {
            terrain.isSky($0, $1) ? 1 : 0.3
        }
        canvas.fillEllipse(cx, cy, radius, radius, palette.sun) { terrain.isSky($0, $1) }
        let cloudColour = palette.sun.mixed(with: palette.skyHorizon, 0.5)
            .mixed(with: Colour(0.35, 0.37, 0.42), scene.reading.isStormy ? 0.7 : 0)
        for band in scene.cloudBands {
            let centre = band.centre * h, thickness = band.thickness * h
            // Per column: how thick the cloud is and where its middle sits; soft at every edge.
            let columns = (0..<canvas.width).map { x -> (half: Float, middle: Float) in
                let u = Float(x) / w + t
                let wave = sinf(2 * .pi * u * 2 + band.phase) + 0.6 * sinf(2 * .pi * u * 5 + band.phase * 2)
                    + 0.35 * sinf(2 * .pi * u * 13 + band.phase * 3)
                let lift = 0.35 * thickness * sinf(2 * .pi * u * 3 + band.phase)
                return (max(0, wave * 0.6 - 0.1) * thickness, centre + lift)
            }
            for y in canvas.rows(centre - thickness * 2, centre + thickness * 2) {
                let py = Float(y)
                for x in 0..<canvas.width where columns[x].half > 0 && terrain.isSky(x, y) {
                    let inside = columns[x].half - abs(py - columns[x].middle)
                    guard inside > 0 else { continue }
                    let shade = 1 - 0.25 * max(0, (py - columns[x].middle) / max(1, columns[x].half))
                    canvas.blend(x, y, cloudColour.scaled(shade), min(0.8, inside / (thickness * 0.6)))
                }
            }
        }
    }

    /// Falling snow, in a loop that repeats every animation cycle.
    private func drawWeather(_ canvas: Canvas, scene: Scene, t: Float) {
        guard scene.reading.isSnowy else { return }
        let w = Float(canvas.width), h = Float(canvas.height)
        let scale = max(1, min(w, h) / 400)
        var random = SplitMix64(seed: scene.seed ^ 0x534E_4F57)
        let count = canvas.width * canvas.height / 1400
        for _ in 0..<count {
            let x0 = random.unitFloat() * w, y0 = random.unitFloat() * h
            let size = (0.6 + random.unitFloat() * 1.4) * scale
            let laps = Float(1 + Int(random.unitFloat() * 2))
            var y = y0 + t * h * laps
            if y >= h { y -= h * (y / h).rounded(.down) }
            let x = x0 + sinf(2 * .pi * (t + y0 / h)) * 6 * scale
            canvas.fillEllipse(x, y, size, size, Colour(0.97, 0.98, 1), alpha: 0.85)
        }
    }

    /// Darkens the corners a little, as a lens does.
    private func vignette(_ canvas: Canvas) {
        let width = canvas.width, height = canvas.height
        let columns = (0..<width).map { x -> UInt32 in
            let u = Float(x) / Float(max(1, width - 1)) * 2 - 1
            return UInt32((1 - 0.18 * u * u) * 256)
        }
        let rows = (0..<height).map { y -> UInt32 in
            let v = Float(y) / Float(max(1, height - 1)) * 2 - 1
            return UInt32((1 - 0.22 * v * v) * 256)
        }
        let buffer = canvas.buffer
        for y in 0..<height {
            let row = y * width * 3, rowFactor = rows[y]
            for x in 0..<width {
                let factor = rowFactor * columns[x]
                let index = row + x * 3
                buffer[index] = UInt8((UInt32(buffer[index]) * factor) >> 16)
                buffer[index + 1] = UInt8((UInt32(buffer[index + 1]) * factor) >> 16)
                buffer[index + 2] = UInt8((UInt32(buffer[index + 2]) * factor) >> 16)
            }
        }
    }
}
