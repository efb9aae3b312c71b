import Foundation

/// Reading prompts as planners need them: whole words, content words, and the beats of a story.
enum PromptText {
    /// Lower-case words of letters and digits.
    static func words(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
    }

    /// The words that carry meaning: three letters or more, not a function word.
    static func contentWords(_ text: String) -> Set<String> {
        Set(words(text).filter { $0.count >= 3 && !stopWords.contains($0) })
    }

    /// The beats of a prompt, in order: its sentences, and the parts joined by "then", "finally", "→".
    static func beats(_ prompt: String) -> [String] {
        var pieces = [prompt]
        for separator in [".", "!", "?", ";", "\n", "->", "→"] {
            pieces = pieces.flatMap { $0.components(separatedBy: separator) }
        }
        let connectors = [", and then ", " and then ", ", then ", " then ", " after that ", " afterwards ", ", finally ",
                          " finally ", " followed by "]
        for connector in connectors {
            pieces = pieces.flatMap { $0.caseInsensitiveSplit(connector) }
        }
        return pieces.map { $0.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters)) }
            .map(stripLeadingConnector)
            .filter { !$0.isEmpty }
    }

    private static func stripLeadingConnector(_ text: String) -> String {
        for lead in ["and then ", "then ", "and ", "finally ", "next "] where text.lowercased().hasPrefix(lead) {
            return String(text.dropFirst(lead.count)).trimmingCharacters(in: .whitespaces)
        }
        return text
    }

    /// The text with its first letter in upper case.
    static func sentenceCase(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.uppercased() + text.dropFirst()
    }

    /// The first word of `candidates` (in the order given) that the words contain, mapped.
    static func firstMatch(_ words: [String], _ table: KeyValuePairs<String, String>) -> String? {
        let present = Set(words)
        return table.first { present.contains($0.key) }?.value
    }

    /// A stable 64-bit digest (FNV-1a) so choices follow the text, not the run.
    static func digest(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    static let stopWords: Set<String> = [
        "the", "and", "with", "for", "from", "into", "onto", "over", "under", "its", "his", "her", "their", "our",
        "your", "this", "that", "these", "those", "then", "than", "while", "when", "where", "which", "who", "whom",
        "are", "was", "were", "been", "being", "has", "have", "had", "does", "did", "not", "but", "all", "any",
        "some", "each", "very", "just", "out", "off", "through", "across", "after", "before", "until", "finally",
        "shot", "scene", "scenes", "video", "film", "clip", "image", "picture", "photo", "make", "show", "shows",
    ]
}

extension String {
    /// Splits on `separator`, ignoring case.
    fileprivate func caseInsensitiveSplit(_ separator: String) -> [String] {
        var parts: [String] = []
        var rest = self[...]
        while let range = rest.range(of: separator, options: .caseInsensitive) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }
}
