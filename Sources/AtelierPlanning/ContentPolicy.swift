public import Foundation

/// Categories of prompts the platform refuses, each a list of terms (words or phrases, matched
/// as whole words, case-insensitively). Loaded from a JSON file
/// (`{"categories": [{"name": "...", "terms": ["...", ...]}]}`) or the defaults below.
public struct ContentPolicy: Codable, Sendable, Hashable {
    public struct Category: Codable, Sendable, Hashable {
        public var name: String
        public var terms: [String]

        public init(name: String, terms: [String]) {
            self.name = name
            self.terms = terms
        }
    }

    public var categories: [Category]
    /// First word of every term → (the term's words, its category), for one pass over a prompt.
    private let index: [String: [(words: [String], category: String)]]

    enum CodingKeys: String, CodingKey { case categories }

    public init(categories: [Category]) {
        self.categories = categories
        var index: [String: [(words: [String], category: String)]] = [:]
        for category in categories {
            for term in category.terms {
                let words = PromptText.words(term)
                guard let first = words.first else { continue }
                index[first, default: []].append((words, category.name))
            }
        }
        self.index = index
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(categories: try container.decode([Category].self, forKey: .categories))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(categories, forKey: .categories)
    }

    public static func == (lhs: ContentPolicy, rhs: ContentPolicy) -> Bool { lhs.categories == rhs.categories }
    public func hash(into hasher: inout Hasher) { hasher.combine(categories) }

    /// The first category a term of which the text contains, or nil.
    public func category(matching text: String) -> String? {
        let words = PromptText.words(text)
        for start in words.indices {
            guard let candidates = index[words[start]] else { continue }
            for candidate in candidates where words[start...].starts(with: candidate.words) {
                return candidate.category
            }
        }
        return nil
    }

    /// Reads a policy file; a file that is not a policy is an error naming the file.
    public static func load(contentsOf url: URL) throws -> ContentPolicy {
        let data = try Data(contentsOf: url)
        do {
            return try JSONDecoder().decode(ContentPolicy.self, from: data)
        } catch {
            throw PlanningConfigurationError("\(url.path) is not a content policy ({\"categories\": [{\"name\", \"terms\"}]}): \(error)")
        }
    }

    /// What a fresh installation refuses: sexual content involving minors, and instructions for
    /// self-harm. Studios extend or replace it with `ATELIER_CONTENT_POLICY`.
    public static let defaults = ContentPolicy(categories: [
        Category(name: "sexual/minors", terms: [
            "child porn", "child pornography", "csam", "underage porn", "underage sex", "underage nude", "nude child",
            "naked child", "sexualized minor", "sexualised minor", "loli porn",
        ]),
        Category(name: "self-harm/instructions", terms: [
            "how to kill myself", "suicide instructions", "how to commit suicide", "ways to self harm",
        ]),
    ])
}

/// Configuration that cannot be used; the server refuses to start and says why.
public struct PlanningConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
