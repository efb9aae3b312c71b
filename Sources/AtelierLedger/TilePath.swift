/// Paths of the C2SP tlog-tiles layout: `tile/<L>/<N>[.p/<W>]` for hash tiles and
/// `tile/entries/<N>[.p/<W>]` for entry bundles, with N written in groups of three digits
/// (`x001/x234/067`). Tiles hold 256 hashes (or entries); a partial tile has width W < 256.
public struct TilePath: Hashable, Sendable {
    public static let height = 8
    public static let width: Int64 = 256

    /// nil for an entry bundle, otherwise the tile level.
    public var level: Int?
    public var index: Int64
    /// 1...256; 256 is a full tile.
    public var width: Int64

    public init(level: Int?, index: Int64, width: Int64 = TilePath.width) {
        self.level = level
        self.index = index
        self.width = width
    }

    /// Reads the part after `tile/`, e.g. `0/x001/234.p/7` or `entries/000`.
    public init(path: String) throws(LedgerError) {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard segments.count >= 2 else { throw LedgerError("not a tile path: \(path)") }
        let head = segments.removeFirst()
        if head == "entries" {
            level = nil
        } else if let level = Int(head), String(level) == head, level >= 0, level <= 8 {
            self.level = level
        } else { throw LedgerError("not a tile level: \(head)") }
        var width = Self.width
        if segments.count >= 2, segments[segments.count - 2].hasSuffix(".p") {
            guard let w = Int64(segments.removeLast()), w >= 1, w < Self.width, String(w) == String(w) else {
                throw LedgerError("not a partial tile width in \(path)")
            }
            width = w
            segments[segments.count - 1].removeLast(2)
        }
        var index: Int64 = 0
        for (i, segment) in segments.enumerated() {
            let isLast = i == segments.count - 1
            let digits = isLast ? segment : String(segment.dropFirst())
            guard isLast || segment.hasPrefix("x"), digits.count == 3, digits.allSatisfy(\.isASCII),
                  let group = Int64(digits), group >= 0, index <= (Int64.max - 999) / 1000
            else { throw LedgerError("not a tile index in \(path)") }
            index = index * 1000 + group
        }
        self.index = index
        self.width = width
        guard path == self.path else { throw LedgerError("not a canonical tile path: \(path)") }
    }

    /// The path after `tile/`.
    public var path: String {
        var groups: [String] = []
        var n = index
        repeat {
            let digits = String(n % 1000)
            groups.insert(String(repeating: "0", count: 3 - digits.count) + digits, at: 0)
            n /= 1000
        } while n > 0
        var text = (level.map(String.init) ?? "entries") + "/"
        text += groups.dropLast().map { "x" + $0 + "/" }.joined() + groups.last!
        if width < Self.width { text += ".p/\(width)" }
        return text
    }

    /// For a hash tile: the Merkle level of its hashes and the first node index on that level.
    public var hashLevel: Int { (level ?? 0) * Self.height }
}
