import AtelierCore

/// What the built-in renderer will make of a prompt — its light, setting, weather, subjects and
/// palette — so a planner describes the film the renderer will actually draw.
public struct PromptLook: Sendable, Hashable {
    /// `day`, `dawn`, `dusk` or `night`; nil when no word of the prompt names the light.
    public var timeOfDay: String?
    /// `meadow`, `mountains`, `sea`, `desert`, `forest` or `city`.
    public var setting: String
    /// `snow`, `fog` and `storm`, as the prompt names them.
    public var weather: [String]
    /// The subjects the renderer draws, e.g. `fox`, `lighthouse`.
    public var subjects: [String]
    /// The palette it paints with, `#RRGGBB`: sky, horizon, far and near land, accent.
    public var palette: [String]

    public init(prompt: String, negativePrompt: String? = nil) {
        let reading = PromptReading(prompt: prompt, negativePrompt: negativePrompt)
        timeOfDay = reading.namesLight ? Self.name(of: reading.light) : nil
        setting = switch reading.setting {
        case .mountains: "mountains"
        case .sea: "sea"
        case .desert: "desert"
        case .forest: "forest"
        case .city: "city"
        case .meadow: "meadow"
        }
        weather = [(reading.isSnowy, "snow"), (reading.isFoggy, "fog"), (reading.isStormy, "storm")].filter(\.0).map(\.1)
        subjects = reading.motifs.map(\.rawValue)
        let colours = Scene.palette(for: reading)
        palette = [colours.skyTop, colours.skyHorizon, colours.far, colours.near, colours.accent].map(\.hexString)
    }

    static func name(of light: PromptReading.Light) -> String {
        switch light {
        case .day: "day"
        case .dawn: "dawn"
        case .dusk: "dusk"
        case .night: "night"
        }
    }
}

extension Colour {
    /// `#RRGGBB`, each channel clamped to 0…1 and rounded.
    var hexString: String {
        func byte(_ value: Float) -> Int { Int((min(max(value, 0), 1) * 255).rounded()) }
        return Hex.colour(red: byte(r), green: byte(g), blue: byte(b))
    }
}
