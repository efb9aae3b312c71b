import AtelierCore
import Foundation

/// A composed picture: palette, horizon, ridges, sun and subjects, all decided from the prompt
/// and the seed before a single pixel is drawn.
struct Scene: Sendable {
    struct Palette: Sendable {
        var skyTop: Colour
        var skyHorizon: Colour
        var far: Colour
        var near: Colour
        var ground: Colour
        var silhouette: Colour
        var sun: Colour
        var accent: Colour
    }

    struct Ridge: Sendable {
        var base: Float
        var amplitude: Float
        var frequencies: [Float]
        var phases: [Float]
        var sharpness: Float

        /// Height of the ridge line at horizontal position `u` (0…1), as a fraction of the image height.
        func height(at u: Float) -> Float {
            var sum: Float = 0
            var weight: Float = 1
            var total: Float = 0
            for (frequency, phase) in zip(frequencies, phases) {
                let wave = sinf(u * frequency * 2 * .pi + phase)
                sum += weight * (sharpness > 0 ? 1 - 2 * abs(wave) * sharpness + (1 - sharpness) * wave : wave)
                total += weight
                weight *= 0.5
            }
            return base - amplitude * (sum / total)
        }
    }

    var reading: PromptReading
    var palette: Palette
    var horizon: Float
    var far: Ridge
    var near: Ridge
    var sunCentre: (x: Float, y: Float)
    var sunRadius: Float
    var hasWater: Bool
    var cloudBands: [(centre: Float, thickness: Float, phase: Float)]
    var subjectX: Float
    var subjectScale: Float
    var seed: UInt64

    init(reading: PromptReading, seed: UInt32) {
        self.reading = reading
        self.seed = UInt64(seed) ^ reading.wordHash
        var random = SplitMix64(seed: self.seed)
        palette = Scene.palette(for: reading)
        hasWater = reading.setting == .sea
        horizon = hasWater ? 0.58 + 0.06 * random.unitFloat() : 0.56 + 0.12 * random.unitFloat()
        let mountainous: Float = reading.setting == .mountains ? 1 : (reading.setting == .desert ? 0.35 : 0.6)
        far = Ridge(
            base: horizon, amplitude: (0.08 + 0.14 * random.unitFloat()) * mountainous + (hasWater ? -0.04 : 0),
            frequencies: [1.2 + random.unitFloat(), 3 + 2 * random.unitFloat(), 7 + 4 * random.unitFloat(), 17 + 6 * random.unitFloat()],
            phases: (0..<4).map { _ in random.unitFloat() * 2 * .pi },
            sharpness: reading.setting == .mountains ? 0.8 : (reading.setting == .desert ? 0 : 0.35)
        )
        near = Ridge(
            base: horizon + (hasWater ? 0.35 : 0.12), amplitude: hasWater ? 0 : 0.04 + 0.05 * random.unitFloat(),
            frequencies: [0.8 + random.unitFloat(), 2.5 + random.unitFloat(), 6 + 3 * random.unitFloat()],
            phases: (0..<3).map { _ in random.unitFloat() * 2 * .pi },
            sharpness: 0
        )
        sunCentre = (0.15 + 0.7 * random.unitFloat(), horizon * (reading.light == .day ? 0.25 + 0.2 * random.unitFloat() : 0.55 + 0.3 * random.unitFloat()))
        sunRadius = 0.045 + 0.035 * random.unitFloat()
        let cloudCount = reading.isStormy ? 4 : (reading.light == .night ? 1 : 2 + Int(random.unitFloat() * 2))
        let skyDepth = horizon
        var bands: [(centre: Float, thickness: Float, phase: Float)] = []
        for _ in 0..<cloudCount {
            bands.append((0.08 + 0.4 * skyDepth * random.unitFloat() + 0.1, 0.02 + 0.04 * random.unitFloat(),
                          random.unitFloat() * 2 * .pi))
        }
        cloudBands = bands
        subjectX = 0.25 + 0.5 * random.unitFloat()
        subjectScale = 0.8 + 0.4 * random.unitFloat()
    }

    static func palette(for reading: PromptReading) -> Palette {
        var palette: Palette
        switch reading.light {
        case .day:
            palette = Palette(skyTop: Colour(hex: 0x2F_6F_C8), skyHorizon: Colour(hex: 0xB2_D8_F0), far: Colour(hex: 0x7E_9C_B6),
                              near: Colour(hex: 0x4B_7A_4E), ground: Colour(hex: 0x6E_94_4C), silhouette: Colour(hex: 0x27_34_2A),
                              sun: Colour(hex: 0xFF_F6_D8), accent: Colour(hex: 0xE0_70_30))
        case .dawn:
            palette = Palette(skyTop: Colour(hex: 0x4E_62_A8), skyHorizon: Colour(hex: 0xF8_B8_9C), far: Colour(hex: 0x9A_84_A6),
                              near: Colour(hex: 0x5C_52_6E), ground: Colour(hex: 0x76_64_74), silhouette: Colour(hex: 0x2E_24_36),
                              sun: Colour(hex: 0xFF_E2_B0), accent: Colour(hex: 0xF0_80_70))
        case .dusk:
            palette = Palette(skyTop: Colour(hex: 0x24_22_56), skyHorizon: Colour(hex: 0xF2_8E_5A), far: Colour(hex: 0x78_4C_6C),
                              near: Colour(hex: 0x3A_2A_46), ground: Colour(hex: 0x46_2E_3E), silhouette: Colour(hex: 0x1A_12_22),
                              sun: Colour(hex: 0xFF_C4_6E), accent: Colour(hex: 0xF0_A0_40))
        case .night:
            palette = Palette(skyTop: Colour(hex: 0x05_08_1A), skyHorizon: Colour(hex: 0x1C_2C_58), far: Colour(hex: 0x18_22_3E),
                              near: Colour(hex: 0x0E_14_26), ground: Colour(hex: 0x10_18_2A), silhouette: Colour(hex: 0x06_08_10),
                              sun: Colour(hex: 0xE8_EC_F6), accent: Colour(hex: 0xF6_D2_6A))
        }
        switch reading.setting {
        case .desert:
            palette.far = palette.far.mixed(with: Colour(hex: 0xD0_94_5C), 0.55)
            palette.near = palette.near.mixed(with: Colour(hex: 0xC0_80_48), 0.6)
            palette.ground = palette.ground.mixed(with: Colour(hex: 0xDC_B0_70), 0.65)
        case .forest:
            palette.near = palette.near.mixed(with: Colour(hex: 0x1E_4A_2C), 0.6)
            palette.ground = palette.ground.mixed(with: Colour(hex: 0x2A_5A_30), 0.5)
        case .city:
            palette.far = palette.far.mixed(with: Colour(hex: 0x3A_40_52), 0.5)
        case .mountains, .meadow, .sea:
            break
        }
        if reading.isSnowy {
            palette.ground = palette.ground.mixed(with: Colour(hex: 0xF2_F6_FC), 0.8)
            palette.near = palette.near.mixed(with: Colour(hex: 0xDC_E6_F2), 0.65)
            palette.far = palette.far.mixed(with: Colour(hex: 0xE4_EC_F6), 0.4)
        }
        if reading.isStormy {
            let grey = Colour(hex: 0x5A_60_6A)
            palette.skyTop = palette.skyTop.mixed(with: grey, 0.6)
            palette.skyHorizon = palette.skyHorizon.mixed(with: grey, 0.5)
        }
        if let accent = reading.accents.first {
            palette.accent = accent
            palette.skyHorizon = palette.skyHorizon.mixed(with: accent, 0.35)
            if reading.accents.count > 1 { palette.skyTop = palette.skyTop.mixed(with: reading.accents[1], 0.35) }
        }
        if reading.isFoggy {
            palette.far = palette.far.mixed(with: palette.skyHorizon, 0.6)
            palette.near = palette.near.mixed(with: palette.skyHorizon, 0.35)
        }
        return palette
    }
}

extension SplitMix64 {
    /// Uniform in 0..<1, as a Float for the rasteriser.
    mutating func unitFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
