import AtelierCore

/// The words a plan may use for its enumerated fields, and what synonyms mean.
public enum Vocabulary {
    /// Camera moves the renderer can perform within a scene.
    public static let cameraMotions = ["static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out"]
    /// ffmpeg `xfade` transitions, plus `none` (a cut, and the last scene's value).
    public static let transitions = FilmTransitions.names
    public static let timesOfDay = ["day", "dawn", "dusk", "night"]
    public static let pacings = ["slow", "moderate", "fast"]
    public static let shots = ["wide", "medium", "close"]
    public static let cameras = ["steady", "handheld", "aerial"]

    /// Output sizes per aspect ratio: 720 lines for the landscape ratios, the same area otherwise.
    public static let aspects: [(name: String, width: Int, height: Int)] = [
        ("16:9", 1280, 720), ("9:16", 720, 1280), ("1:1", 960, 960), ("4:3", 960, 720),
        ("3:4", 720, 960), ("21:9", 1680, 720), ("4:5", 768, 960),
    ]

    public static func size(of aspect: String) -> (width: Int, height: Int)? {
        aspects.first { $0.name == aspect }.map { ($0.width, $0.height) }
    }

    /// A camera motion named loosely ("pan left", "Zoom-In", "push in") in the vocabulary's form.
    static func cameraMotion(_ text: String) -> String? {
        let key = normalised(text)
        if cameraMotions.contains(key) { return key }
        return [
            "none": "static", "still": "static", "locked": "static", "fixed": "static", "hold": "static",
            "pan": "pan_right", "panleft": "pan_left", "panright": "pan_right", "truck_left": "pan_left", "truck_right": "pan_right",
            "tilt": "tilt_up", "crane_up": "tilt_up", "pedestal_up": "tilt_up", "crane_down": "tilt_down",
            "zoom": "zoom_in", "push_in": "zoom_in", "dolly_in": "zoom_in", "push": "zoom_in",
            "pull_out": "zoom_out", "dolly_out": "zoom_out", "pull_back": "zoom_out",
        ][key]
    }

    /// A transition named loosely ("crossfade", "wipe left", "cut") as an xfade name.
    static func transition(_ text: String) -> String? {
        let key = normalised(text).replacingOccurrences(of: "_", with: "")
        if transitions.contains(key) { return key }
        return [
            "cut": "none", "hardcut": "none", "crossfade": "fade", "crossdissolve": "dissolve", "mix": "dissolve",
            "wipe": "wipeleft", "slide": "slideleft", "fadetoblack": "fadeblack", "dip": "fadeblack",
            "diptoblack": "fadeblack", "fadetowhite": "fadewhite", "iris": "circleopen", "circle": "circleopen",
        ][key]
    }

    static func timeOfDay(_ text: String) -> String? {
        let key = normalised(text)
        if timesOfDay.contains(key) { return key }
        return [
            "daytime": "day", "noon": "day", "morning": "dawn", "sunrise": "dawn", "golden_hour": "dusk",
            "sunset": "dusk", "evening": "dusk", "twilight": "dusk", "midnight": "night", "nighttime": "night",
        ][key]
    }

    static func pacing(_ text: String) -> String? {
        let key = normalised(text)
        if pacings.contains(key) { return key }
        return ["calm": "slow", "gentle": "slow", "medium": "moderate", "normal": "moderate", "quick": "fast", "rapid": "fast"][key]
    }

    static func shot(_ text: String) -> String? {
        let key = normalised(text)
        if shots.contains(key) { return key }
        return ["establishing": "wide", "wide_shot": "wide", "long": "wide", "mid": "medium", "medium_shot": "medium",
                "closeup": "close", "close_up": "close", "detail": "close", "extreme_close_up": "close"][key]
    }

    /// Lower case, words joined by `_`.
    static func normalised(_ text: String) -> String {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.joined(separator: "_")
    }
}
