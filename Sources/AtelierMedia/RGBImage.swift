/// An 8-bit RGB image, rows top to bottom, three bytes a pixel.
public struct RGBImage: Sendable, Hashable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "pixel buffer does not match the dimensions")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
    }

    public var megapixels: Double { Double(width * height) / 1_000_000 }
}

/// A colour with components in 0…1, for composing; converted to bytes only when written.
struct Colour: Sendable, Hashable {
    var r: Float
    var g: Float
    var b: Float

    init(_ r: Float, _ g: Float, _ b: Float) {
        self.r = r
        self.g = g
        self.b = b
    }

    init(hex: UInt32) {
        self.init(Float((hex >> 16) & 0xFF) / 255, Float((hex >> 8) & 0xFF) / 255, Float(hex & 0xFF) / 255)
    }

    func mixed(with other: Colour, _ amount: Float) -> Colour {
        Colour(r + (other.r - r) * amount, g + (other.g - g) * amount, b + (other.b - b) * amount)
    }

    func scaled(_ factor: Float) -> Colour { Colour(r * factor, g * factor, b * factor) }
}
