import AtelierCore
import Foundation

/// Draws the prompt's subjects and the setting's furniture (pines, skylines, flowers) on the
/// terrain, in silhouette against the light, with the accent colour where it reads well.
struct MotifPainter {
    let canvas: Canvas
    let scene: Scene
    let terrain: ProceduralRenderer.Terrain
    let t: Float

    private var w: Float { Float(canvas.width) }
    private var h: Float { Float(canvas.height) }
    private var unit: Float { min(w, h) }
    private var dark: Colour { scene.palette.silhouette }
    private var accent: Colour { scene.palette.accent }

    func paint() {
        var random = SplitMix64(seed: scene.seed ^ 0x4D4F_5449)
        switch scene.reading.setting {
        case .forest: paintForest(&random)
        case .city: paintSkyline(&random)
        default: break
        }
        for (index, motif) in scene.reading.motifs.prefix(3).enumerated() {
            let offset: Float = index == 0 ? 0 : (index == 1 ? -0.28 : 0.26)
            var x = (scene.subjectX + offset) * w
            if x < 0.08 * w || x > 0.92 * w { x = (scene.subjectX - offset * 0.5) * w }
            let scale = scene.subjectScale * (index == 0 ? 1 : 0.7)
            paint(motif, x: x, scale: scale, random: &random)
        }
    }

    /// The ground line at column `x`, where things stand.
    private func ground(at x: Float) -> Float {
        let column = max(0, min(canvas.width - 1, Int(x)))
        if scene.hasWater { return Float(terrain.nearTop[column]) }
        return Float(terrain.nearTop[column]) + unit * 0.02
    }

    private func paint(_ motif: PromptReading.Motif, x: Float, scale: Float, random: inout SplitMix64) {
        let s = unit * scale
        let floor = ground(at: x)
        switch motif {
        case .fox:
            let fur = accent.mixed(with: Colour(hex: 0xD0_68_20), 0.5)
            let y = floor - s * 0.08
            canvas.fillEllipse(x + s * 0.12, y, s * 0.13, s * 0.05, fur)                      // tail
            canvas.fillEllipse(x + s * 0.22, y - s * 0.01, s * 0.04, s * 0.03, Colour(0.96, 0.95, 0.92))
            canvas.fillEllipse(x, y - s * 0.04, s * 0.08, s * 0.09, fur)                       // body
            canvas.fillEllipse(x - s * 0.04, y - s * 0.15, s * 0.055, s * 0.05, fur)           // head
            canvas.fillPolygon([(x - s * 0.085, y - s * 0.17), (x - s * 0.14, y - s * 0.14), (x - s * 0.08, y - s * 0.13)], fur)
            canvas.fillPolygon([(x - s * 0.07, y - s * 0.18), (x - s * 0.06, y - s * 0.25), (x - s * 0.03, y - s * 0.19)], fur)
            canvas.fillPolygon([(x - s * 0.02, y - s * 0.18), (x + s * 0.0, y - s * 0.25), (x + s * 0.02, y - s * 0.17)], fur)
            canvas.fillEllipse(x - s * 0.03, y - s * 0.09, s * 0.035, s * 0.04, Colour(0.96, 0.95, 0.92))
            canvas.fillEllipse(x - s * 0.135, y - s * 0.145, s * 0.008, s * 0.008, dark)
        case .deer:
            let y = floor - s * 0.2
            canvas.fillEllipse(x, y, s * 0.12, s * 0.06, dark)
            for leg in [-0.09, -0.06, 0.06, 0.09] as [Float] {
                canvas.fillRect(x + s * leg - s * 0.01, y, x + s * leg + s * 0.01, floor, dark)
            }
            canvas.fillPolygon([(x - s * 0.1, y - s * 0.02), (x - s * 0.15, y - s * 0.16), (x - s * 0.11, y - s * 0.17), (x - s * 0.06, y - s * 0.03)], dark)
            canvas.fillEllipse(x - s * 0.15, y - s * 0.17, s * 0.04, s * 0.025, dark)
            for side in [-1, 1] as [Float] {
                let bx = x - s * 0.14 + side * s * 0.01
                canvas.fillPolygon([(bx, y - s * 0.19), (bx + side * s * 0.05, y - s * 0.3), (bx + side * s * 0.056, y - s * 0.29), (bx + s * 0.01, y - s * 0.19)], dark)
            }
        case .bird:
            for i in 0..<5 {
                let bx = x + (random.unitFloat() - 0.5) * s * 0.9 + sinf(2 * .pi * t) * s * 0.05
                let by = h * scene.horizon * (0.2 + 0.45 * random.unitFloat())
                let span = s * (0.03 + 0.02 * random.unitFloat())
                let flap = sinf(2 * .pi * (t * 2 + Float(i) * 0.3)) * span * 0.4
                canvas.fillPolygon([(bx - span, by - flap), (bx, by + span * 0.15), (bx, by + span * 0.3)], dark)
                canvas.fillPolygon([(bx + span, by - flap), (bx, by + span * 0.15), (bx, by + span * 0.3)], dark)
            }
        case .whale:
            let y = max(floor, Float(terrain.horizon) + s * 0.15)
            canvas.fillEllipse(x, y, s * 0.22, s * 0.06, dark.mixed(with: Colour(hex: 0x2A_40_58), 0.4))
            canvas.fillPolygon([(x + s * 0.2, y), (x + s * 0.32, y - s * 0.07), (x + s * 0.3, y + s * 0.02)], dark)
            canvas.glow(x - s * 0.12, y - s * 0.12, radius: s * 0.05, Colour(0.9, 0.95, 1), strength: 0.5 + 0.3 * sinf(2 * .pi * t))
        case .lighthouse:
            let top = floor - s * 0.62
            canvas.fillEllipse(x, floor, s * 0.14, s * 0.05, dark)
            let half0 = s * 0.055, half1 = s * 0.035
            canvas.fillPolygon([(x - half0, floor), (x + half0, floor), (x + half1, top), (x - half1, top)], Colour(0.94, 0.93, 0.9))
            for band in 0..<3 {
                let y0 = floor - s * (0.1 + Float(band) * 0.18), y1 = y0 - s * 0.08
                let k0 = (floor - y0) / (floor - top), k1 = (floor - y1) / (floor - top)
                let a0 = half0 + (half1 - half0) * k0, a1 = half0 + (half1 - half0) * k1
                canvas.fillPolygon([(x - a0, y0), (x + a0, y0), (x + a1, y1), (x - a1, y1)], Colour(hex: 0xC0_30_2A))
            }
            canvas.fillRect(x - half1 * 1.3, top - s * 0.07, x + half1 * 1.3, top, dark)
            canvas.fillPolygon([(x - half1 * 1.5, top - s * 0.07), (x + half1 * 1.5, top - s * 0.07), (x, top - s * 0.13)], dark)
            let lamp = Colour(1, 0.93, 0.7)
            canvas.glow(x, top - s * 0.035, radius: s * 0.12, lamp, strength: 0.9)
            let angle = 2 * Float.pi * t
            let reach = w * 0.6, spread = s * 0.09 * (0.6 + 0.4 * abs(cosf(angle)))
            let direction: Float = cosf(angle) >= 0 ? 1 : -1
            canvas.fillPolygon([(x, top - s * 0.035), (x + direction * reach, top - s * 0.035 - spread),
                                (x + direction * reach, top - s * 0.035 + spread)], lamp, alpha: 0.22)
        case .tower, .monolith:
            let tall: Float = motif == .tower ? 0.7 : 0.45
            let half = s * (motif == .tower ? 0.05 : 0.06)
            canvas.fillRect(x - half, floor - s * tall, x + half, floor, dark)
            if motif == .tower {
                canvas.fillPolygon([(x - half, floor - s * tall), (x + half, floor - s * tall), (x, floor - s * (tall + 0.12))], dark)
                for row in 0..<6 {
                    let y = floor - s * (0.08 + Float(row) * 0.1)
                    canvas.fillRect(x - half * 0.3, y - s * 0.03, x + half * 0.3, y, accent, alpha: 0.9)
                }
            } else {
                canvas.glow(x, floor - s * tall * 0.5, radius: s * 0.3, accent, strength: 0.25)
            }
        case .castle:
            let base = floor, width = s * 0.5, wall = s * 0.18
            canvas.fillRect(x - width / 2, base - wall, x + width / 2, base, dark)
            for (offset, height) in [(-0.5, 0.34), (0, 0.46), (0.5, 0.34)] as [(Float, Float)] {
                let tx = x + offset * width * 0.9
                canvas.fillRect(tx - s * 0.04, base - s * height, tx + s * 0.04, base, dark)
                canvas.fillPolygon([(tx - s * 0.05, base - s * height), (tx + s * 0.05, base - s * height), (tx, base - s * (height + 0.1))], dark)
                canvas.fillRect(tx - s * 0.01, base - s * (height - 0.08), tx + s * 0.01, base - s * (height - 0.12), accent)
            }
            for i in 0..<7 {
                let cx = x - width / 2 + width * (Float(i) + 0.5) / 7
                canvas.fillRect(cx - s * 0.012, base - wall - s * 0.025, cx + s * 0.012, base - wall, dark)
            }
        case .tree:
            paintPine(x: x, base: floor, height: s * 0.45, colour: dark.mixed(with: Colour(hex: 0x1E_3A_24), 0.4))
        case .house:
            let y = floor, half = s * 0.12
            canvas.fillRect(x - half, y - s * 0.16, x + half, y, dark)
            canvas.fillPolygon([(x - half * 1.2, y - s * 0.16), (x + half * 1.2, y - s * 0.16), (x, y - s * 0.3)], dark)
            canvas.fillRect(x + half * 0.4, y - s * 0.3, x + half * 0.65, y - s * 0.2, dark)
            canvas.fillRect(x - half * 0.55, y - s * 0.11, x - half * 0.15, y - s * 0.05, accent)
            canvas.glow(x - half * 0.35, y - s * 0.08, radius: s * 0.08, accent, strength: 0.35)
        case .boat:
            let y = scene.hasWater ? Float(terrain.horizon) + s * 0.12 : floor
            let bob = sinf(2 * .pi * t) * s * 0.01
            canvas.fillPolygon([(x - s * 0.16, y - s * 0.04 + bob), (x + s * 0.16, y - s * 0.04 + bob), (x + s * 0.11, y + bob), (x - s * 0.11, y + bob)], dark)
            canvas.fillRect(x - s * 0.006, y - s * 0.36 + bob, x + s * 0.006, y - s * 0.04 + bob, dark)
            canvas.fillPolygon([(x + s * 0.012, y - s * 0.34 + bob), (x + s * 0.012, y - s * 0.07 + bob), (x + s * 0.15, y - s * 0.07 + bob)], Colour(0.96, 0.94, 0.88))
            canvas.fillPolygon([(x - s * 0.012, y - s * 0.3 + bob), (x - s * 0.012, y - s * 0.07 + bob), (x - s * 0.1, y - s * 0.07 + bob)], accent)
        case .flower:
            for _ in 0..<40 {
                let fx = x + (random.unitFloat() - 0.5) * w * 0.7
                let fy = ground(at: fx) + random.unitFloat() * (h - ground(at: fx)) * 0.9
                let size = s * (0.012 + 0.018 * (fy / h))
                canvas.fillRect(fx - size * 0.15, fy, fx + size * 0.15, fy + size * 2.5, dark.mixed(with: Colour(hex: 0x2E_6A_34), 0.6))
                let petal = scene.reading.accents.isEmpty ? Colour(hex: 0xF0_5A_8C) : scene.reading.accents[Int(random.next() % UInt64(scene.reading.accents.count))]
                canvas.fillEllipse(fx, fy, size, size, petal)
                canvas.fillEllipse(fx, fy, size * 0.35, size * 0.35, Colour(hex: 0xF6_D0_50))
            }
        }
    }

    private func paintPine(x: Float, base: Float, height: Float, colour: Colour) {
        canvas.fillRect(x - height * 0.03, base - height * 0.15, x + height * 0.03, base, colour)
        for tier in 0..<3 {
            let bottom = base - height * (0.1 + Float(tier) * 0.25)
            let half = height * (0.24 - Float(tier) * 0.06)
            canvas.fillPolygon([(x - half, bottom), (x + half, bottom), (x, bottom - height * 0.42)], colour)
        }
    }

    private func paintForest(_ random: inout SplitMix64) {
        let count = 9 + Int(random.unitFloat() * 8)
        for i in 0..<count {
            let x = (Float(i) + random.unitFloat()) / Float(count) * w
            let height = unit * (0.16 + 0.14 * random.unitFloat())
            let colour = scene.palette.near.mixed(with: dark, 0.35 + 0.3 * random.unitFloat())
            paintPine(x: x, base: ground(at: x) + unit * 0.01, height: height, colour: colour)
        }
    }

    private func paintSkyline(_ random: inout SplitMix64) {
        var x: Float = 0
        let lit = scene.reading.light == .night || scene.reading.light == .dusk
        let windowColour = Colour(hex: 0xF6_D8_8A)
        while x < w {
            let width = unit * (0.04 + 0.06 * random.unitFloat())
            let column = max(0, min(canvas.width - 1, Int(x + width / 2)))
            let base = Float(terrain.farTop[column]) + unit * 0.03
            let top = base - unit * (0.08 + 0.3 * random.unitFloat())
            let colour = scene.palette.far.mixed(with: dark, 0.55)
            canvas.fillRect(x, top, x + width - unit * 0.004, base + unit * 0.05, colour)
            if lit {
                var y = top + unit * 0.015
                while y < base {
                    var wx = x + unit * 0.008
                    while wx < x + width - unit * 0.015 {
                        if random.next() % 3 == 0 {
                            canvas.fillRect(wx, y, wx + unit * 0.006, y + unit * 0.008, windowColour, alpha: 0.85)
                        }
                        wx += unit * 0.014
                    }
                    y += unit * 0.02
                }
            }
            x += width
        }
    }
}
