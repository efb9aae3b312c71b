public import AtelierCore
public import Foundation

/// Decides what an uploaded file is from its bytes — magic numbers first, then ffprobe, then a
/// real decode of a few frames — and reads the features planners use from it. The name and
/// the Content-Type a client sent play no part.
public struct MediaInspector: Sendable {
    /// The formats accepted, by their magic numbers.
    public enum Format: String, Sendable, CaseIterable {
        case png, jpeg, webp, mp4, webm

        public var contentType: String {
            switch self {
            case .png: "image/png"
            case .jpeg: "image/jpeg"
            case .webp: "image/webp"
            case .mp4: "video/mp4"
            case .webm: "video/webm"
            }
        }

        public var kind: Upload.Kind { self == .mp4 || self == .webm ? .video : .image }
        public var fileExtension: String { self == .jpeg ? "jpg" : rawValue }

        /// What ffprobe must find inside: codec names, and the container for clips.
        var codecs: Set<String> {
            switch self {
            case .png: ["png"]
            case .jpeg: ["mjpeg"]
            case .webp: ["webp"]
            case .mp4: ["h264", "hevc", "mpeg4", "av1", "vp9"]
            case .webm: ["vp8", "vp9", "av1"]
            }
        }

        var containers: [String] {
            switch self {
            case .mp4: ["mp4", "mov"]
            case .webm: ["webm", "matroska"]
            default: []
            }
        }
    }

    /// Why a file was refused: not a supported type (415), or damaged or lying about itself (422).
    public enum Refusal: Error, Sendable, Equatable {
        case unsupported(String)
        case damaged(String)
    }

    public struct Inspection: Sendable {
        public var format: Format
        public var width: Int
        public var height: Int
        public var durationS: Double?
        public var features: ReferenceFeatures
    }

    public static let dimensionRange = 16...8192
    public static let longestClip = 300.0
    /// Frames sampled from a clip (two a second) for its palette, brightness and motion.
    static let clipSamples = 24

    public let ffmpeg: FFmpeg
    public let ffprobe: FFprobe

    public init(ffmpeg: FFmpeg, ffprobe: FFprobe) {
        self.ffmpeg = ffmpeg
        self.ffprobe = ffprobe
    }

    /// The format the first bytes announce, if it is one accepted.
    public static func sniff(_ head: some Collection<UInt8>) -> Format? {
        let bytes = Array(head.prefix(16))
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + magic.count && Array(bytes[offset..<(offset + magic.count)]) == magic
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
        if starts(Array("ftyp".utf8), at: 4) { return .mp4 }
        if starts([0x1A, 0x45, 0xDF, 0xA3]) { return .webm }
        return nil
    }

    /// Checks the file at `url` all the way through and reads its features.
    public func inspect(_ url: URL) async throws(Refusal) -> Inspection {
        let head = (try? FileHandle(forReadingFrom: url).read(upToCount: 16)) ?? Data()
        guard let format = Self.sniff(head) else {
            throw .unsupported("the bytes are not a PNG, JPEG or WebP image nor an MP4 or WebM clip")
        }
        let probe: MediaProbe
        do {
            probe = try await ffprobe.probe(url)
        } catch {
            throw .damaged("the file starts like \(format.rawValue.uppercased()) but cannot be read as one (truncated or damaged)")
        }
        guard format.codecs.contains(probe.codec),
              format.containers.isEmpty || format.containers.contains(where: probe.formatName.contains) else {
            throw .damaged("the file starts like \(format.rawValue.uppercased()) but holds \(probe.codec) in \(probe.formatName)")
        }
        guard Self.dimensionRange.contains(probe.width), Self.dimensionRange.contains(probe.height) else {
            throw .damaged("\(probe.width)×\(probe.height) is outside \(Self.dimensionRange.lowerBound)…\(Self.dimensionRange.upperBound) pixels a side (or the file is truncated)")
        }
        var duration: Double?
        if format.kind == .video {
            guard probe.duration > 0, probe.duration <= Self.longestClip else {
                throw .damaged("clips must last more than 0 and at most \(Int(Self.longestClip)) seconds; this one reads as \(probe.duration) s")
            }
            duration = probe.duration
        }
        let frames = try await samples(url, isClip: format.kind == .video)
        return Inspection(format: format, width: probe.width, height: probe.height, durationS: duration,
                          features: Self.features(of: frames, isClip: format.kind == .video))
    }

    static let sampleWidth = 32, sampleHeight = 18

    /// Small RGB frames decoded by ffmpeg, which stops at the first decoding error: a file
    /// truncated after its header fails here.
    func samples(_ url: URL, isClip: Bool) async throws(Refusal) -> [[UInt8]] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-inspect-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("samples.rgb")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let scale = "scale=\(Self.sampleWidth):\(Self.sampleHeight):flags=area"
            try await ffmpeg.run(["-xerror", "-i", url.path, "-vf", isClip ? "fps=2,\(scale)" : scale,
                                  "-frames:v", "\(isClip ? Self.clipSamples : 1)", "-f", "rawvideo", "-pix_fmt", "rgb24", output.path])
            let bytes = [UInt8](try Data(contentsOf: output))
            let size = Self.sampleWidth * Self.sampleHeight * 3
            let frames = stride(from: 0, to: bytes.count - size + 1, by: size).map { Array(bytes[$0..<($0 + size)]) }
            guard !frames.isEmpty else { throw Refusal.damaged("no picture could be decoded from the file") }
            return frames
        } catch let refusal as Refusal {
            throw refusal
        } catch {
            throw .damaged("the file could not be decoded all the way (truncated or damaged)")
        }
    }

    /// Palette (the three most common colours, 3 bits a channel, each the mean of its pixels),
    /// mean luma, and for clips the mean change between consecutive samples.
    static func features(of frames: [[UInt8]], isClip: Bool) -> ReferenceFeatures {
        var buckets: [Int: (count: Int, r: Int, g: Int, b: Int)] = [:]
        var luma = 0.0
        var pixels = 0
        for frame in frames {
            for index in stride(from: 0, to: frame.count, by: 3) {
                let r = Int(frame[index]), g = Int(frame[index + 1]), b = Int(frame[index + 2])
                let key = (r >> 5) << 6 | (g >> 5) << 3 | (b >> 5)
                var bucket = buckets[key] ?? (0, 0, 0, 0)
                bucket.count += 1
                bucket.r += r
                bucket.g += g
                bucket.b += b
                buckets[key] = bucket
                luma += 0.2126 * Double(r) + 0.7152 * Double(g) + 0.0722 * Double(b)
                pixels += 1
            }
        }
        let palette = buckets.sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
            .prefix(3).map { entry -> String in
                let n = entry.value.count
                return Hex.colour(red: entry.value.r / n, green: entry.value.g / n, blue: entry.value.b / n)
            }
        var motion: Double?
        if isClip {
            var change = 0.0
            var compared = 0
            for (previous, next) in zip(frames, frames.dropFirst()) {
                for index in previous.indices { change += abs(Double(previous[index]) - Double(next[index])) }
                compared += previous.count
            }
            motion = compared > 0 ? (change / Double(compared) / 255 * 1000).rounded() / 1000 : 0
        }
        return ReferenceFeatures(palette: palette, brightness: pixels > 0 ? (luma / Double(pixels) / 255 * 1000).rounded() / 1000 : 0,
                                 motion: motion)
    }
}
