import Foundation

/// Decodes media with the real ffmpeg/ffprobe, so tests check what standard decoders accept.
enum Decoding {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ tool: String, _ arguments: [String], input: Data) throws -> Data {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-decode-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("input")
        try input.write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool, "-v", "error"] + arguments.map { $0 == "INPUT" ? file.path : $0 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(tool) failed: \(String(decoding: errorText, as: UTF8.self))")
        }
        return data
    }

    /// Width, height and frame count as ffprobe reads them.
    static func probe(_ media: Data) throws -> (width: Int, height: Int, frames: Int) {
        let text = String(decoding: try run("ffprobe", [
            "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=width,height,nb_read_frames",
            "-of", "csv=p=0", "INPUT",
        ], input: media), as: UTF8.self)
        let fields = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").compactMap { Int($0) }
        guard fields.count == 3 else { throw Failure(description: "unexpected ffprobe output: \(text)") }
        return (fields[0], fields[1], fields[2])
    }

    /// The first frame as raw RGB24 bytes.
    static func rgb(_ media: Data) throws -> Data {
        try run("ffmpeg", ["-i", "INPUT", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], input: media)
    }
}
