/// What the built-in renderer understands of a prompt: light, weather, setting, colours, subjects.
///
/// Words are matched whole and case-insensitively; a negative prompt removes what it names.
struct PromptReading: Sendable, Hashable {
    enum Light: Sendable, Hashable { case day, dawn, dusk, night }
    enum Setting: Sendable, Hashable { case mountains, sea, desert, forest, city, meadow }
    enum Motif: String, Sendable, Hashable, CaseIterable {
        case fox, deer, bird, whale, lighthouse, tower, castle, tree, house, boat, flower, monolith
    }

    var light: Light = .day
    /// Whether a word of the prompt named the light (otherwise `light` is the default, day).
    var namesLight = false
    var setting: Setting = .meadow
    var isSnowy = false
    var isFoggy = false
    var isStormy = false
    var accents: [Colour] = []
    var motifs: [Motif] = []
    /// Stable digest of the words, so unknown prompts still differ from one another.
    var wordHash: UInt64 = 0xCBF2_9CE4_8422_2325

    init(prompt: String, negativePrompt: String? = nil) {
        let excluded = Set(Self.words(negativePrompt ?? ""))
        for word in Self.words(prompt) where !excluded.contains(word) {
            for byte in word.utf8 { wordHash = (wordHash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            wordHash = (wordHash ^ 0x20) &* 0x0000_0100_0000_01B3
            read(word)
        }
        if motifs.isEmpty && wordHash != 0xCBF2_9CE4_8422_2325 {
            motifs.append(Motif.allCases[Int(wordHash % UInt64(Motif.allCases.count))])
        }
    }

    private mutating func read(_ word: String) {
        switch word {
        case "dawn", "sunrise", "morning": light = .dawn; namesLight = true
        case "dusk", "sunset", "evening", "twilight", "golden": light = .dusk; namesLight = true
        case "night", "midnight", "stars", "starry", "nocturnal", "dark", "moon", "moonlit", "moonlight": light = .night; namesLight = true
        case "noon", "day", "sunny", "bright", "summer": light = .day; namesLight = true
        case "snow", "snowy", "winter", "ice", "icy", "frost", "frozen", "blizzard": isSnowy = true
        case "fog", "foggy", "mist", "misty", "haze", "hazy": isFoggy = true
        case "storm", "stormy", "rain", "rainy", "thunder": isStormy = true
        case "sea", "ocean", "beach", "coast", "lake", "river", "harbor", "harbour", "waves", "shore": setting = .sea
        case "mountain", "mountains", "peak", "peaks", "alps", "valley", "cliff", "cliffs": setting = .mountains
        case "desert", "dune", "dunes", "sand", "canyon": setting = .desert
        case "forest", "woods", "jungle", "pines", "woodland": setting = .forest; motifs.append(.tree)
        case "city", "skyline", "town", "street", "metropolis", "neon": setting = .city
        case "meadow", "field", "fields", "garden", "hills", "prairie": setting = .meadow
        default:
            if let accent = Self.colourWords[word] { accents.append(accent) }
            if let motif = Self.motifWords[word], !motifs.contains(motif) { motifs.append(motif) }
        }
    }

    static func words(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter }.map(String.init)
    }

    static let colourWords: [String: Colour] = [
        "red": Colour(hex: 0xD2_3C_2C), "crimson": Colour(hex: 0xB0_1E_3A), "orange": Colour(hex: 0xEE_84_2A),
        "amber": Colour(hex: 0xF0_A0_30), "yellow": Colour(hex: 0xF2_D0_3A), "gold": Colour(hex: 0xE8_B8_48),
        "green": Colour(hex: 0x3C_A0_50), "emerald": Colour(hex: 0x1E_9A_6A), "teal": Colour(hex: 0x1E_8C_8C),
        "cyan": Colour(hex: 0x38_C8_DC), "blue": Colour(hex: 0x2E_6A_D8), "navy": Colour(hex: 0x1C_2A_5C),
        "purple": Colour(hex: 0x7A_3C_B4), "violet": Colour(hex: 0x8E_5C_E0), "pink": Colour(hex: 0xF0_8C_B8),
        "magenta": Colour(hex: 0xD0_2C_A0), "white": Colour(hex: 0xF4_F4_F0), "black": Colour(hex: 0x16_16_1A),
        "silver": Colour(hex: 0xC0_C6_D0), "brown": Colour(hex: 0x7A_52_34), "copper": Colour(hex: 0xB8_6A_3A),
    ]

    static let motifWords: [String: Motif] = [
        "fox": .fox, "foxes": .fox, "wolf": .fox, "cat": .fox, "dog": .fox,
        "deer": .deer, "stag": .deer, "horse": .deer, "elk": .deer,
        "bird": .bird, "birds": .bird, "crow": .bird, "eagle": .bird, "gull": .bird, "gulls": .bird,
        "whale": .whale, "fish": .whale, "dolphin": .whale,
        "lighthouse": .lighthouse, "beacon": .lighthouse,
        "tower": .tower, "spire": .tower, "skyscraper": .tower,
        "castle": .castle, "fortress": .castle, "palace": .castle,
        "tree": .tree, "trees": .tree, "oak": .tree, "pine": .tree,
        "house": .house, "cabin": .house, "cottage": .house, "hut": .house, "barn": .house,
        "boat": .boat, "ship": .boat, "sailboat": .boat, "yacht": .boat,
        "flower": .flower, "flowers": .flower, "rose": .flower, "tulip": .flower, "bloom": .flower,
        "monolith": .monolith, "statue": .monolith, "obelisk": .monolith, "robot": .monolith,
    ]
}
