/// An RFC 9457 problem document, the body of every error the API returns.
public struct Problem: Codable, Sendable, Hashable, Error {
    /// A stable URI naming the kind of problem; clients branch on it.
    public var type: String
    public var title: String
    public var status: Int
    /// What went wrong with this request, in words a person can act on.
    public var detail: String
    /// Every field that broke a rule, for validation problems.
    public var errors: [FieldError]?
    /// The job the problem concerns (for example the original job of a reused idempotency key).
    public var jobID: String?
    /// The content-policy category a refused prompt falls in (`content-blocked` problems).
    public var category: String?
    /// For `insufficient-credits`: the credits the creator has available, and what was asked.
    public var available: Int?
    public var cost: Int?
    /// For `quota-exceeded`: which quota, its limit, and when it frees up by itself (absent
    /// when it frees as the creator's own jobs start or end).
    public var quota: String?
    public var limit: Int?
    /// RFC 3339, like every time in the API.
    public var resetsAt: String?

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, errors, category, available, cost, quota, limit
        case jobID = "job_id"
        case resetsAt = "resets_at"
    }

    public init(type: String, title: String, status: Int, detail: String, errors: [FieldError]? = nil, jobID: String? = nil,
                category: String? = nil, available: Int? = nil, cost: Int? = nil) {
        self.available = available
        self.cost = cost
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        self.errors = errors
        self.jobID = jobID
        self.category = category
    }

    /// The type URI for a problem slug, e.g. `urn:atelier:problem:validation-failed`.
    public static func typeURI(_ slug: String) -> String { "urn:atelier:problem:\(slug)" }

    /// The slug of this problem's type (`validation-failed`), or the whole type if it is foreign.
    public var slug: String {
        let prefix = "urn:atelier:problem:"
        return type.hasPrefix(prefix) ? String(type.dropFirst(prefix.count)) : type
    }
}

/// One field that broke a rule.
public struct FieldError: Codable, Sendable, Hashable {
    /// The field's path in the request, e.g. `params.width`.
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}
