/// What a creator asks for: the prompt and options, before validation and pricing.
public struct JobRequest: Sendable, Hashable {
    public var kind: JobKind
    public var prompt: String
    public var negativePrompt: String?
    public var model: String
    public var params: JobParams?
    public var priority: Int
    public var pool: String?
    public var maxAttempts: Int
    public var parentID: JobID?
    public var idempotencyKey: String?

    public init(kind: JobKind, prompt: String, negativePrompt: String? = nil, model: String = ModelID.builtin.rawValue,
                params: JobParams? = nil, priority: Int = 0, pool: String? = nil, maxAttempts: Int = 3,
                parentID: JobID? = nil, idempotencyKey: String? = nil) {
        self.kind = kind
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.model = model
        self.params = params
        self.priority = priority
        self.pool = pool
        self.maxAttempts = maxAttempts
        self.parentID = parentID
        self.idempotencyKey = idempotencyKey
    }

    public static let maximumPromptLength = 4_000
    public static let priorityRange = -100...100
    public static let attemptRange = 1...10

    /// Validates every field and prices the job; the first broken rule is thrown.
    public func validated(id: JobID, creator: CreatorID, costModel: CostModel,
                          requestFingerprint: String? = nil) throws(ValidationError) -> NewJob {
        guard !prompt.allSatisfy(\.isWhitespace) else {
            throw ValidationError(field: "prompt", message: "must not be empty")
        }
        guard prompt.count <= Self.maximumPromptLength else {
            throw ValidationError(field: "prompt", message: "must be at most \(Self.maximumPromptLength) characters")
        }
        if let negativePrompt, negativePrompt.count > Self.maximumPromptLength {
            throw ValidationError(field: "negative_prompt", message: "must be at most \(Self.maximumPromptLength) characters")
        }
        guard let modelID = ModelID(rawValue: model) else {
            throw ValidationError(field: "model", message: "must be a model id such as \"builtin\"")
        }
        let resolvedPool: PoolName
        if let pool {
            guard let named = PoolName(rawValue: pool) else {
                throw ValidationError(field: "pool", message: "must be 1 to 64 letters, digits, '-' or '_'")
            }
            resolvedPool = named
        } else {
            resolvedPool = .default(for: kind)
        }
        guard Self.priorityRange.contains(priority) else {
            throw ValidationError(field: "priority", message: "must be from -100 to 100")
        }
        guard Self.attemptRange.contains(maxAttempts) else {
            throw ValidationError(field: "max_attempts", message: "must be from 1 to 10")
        }
        if let idempotencyKey {
            let isPrintable = idempotencyKey.utf8.allSatisfy { (0x21...0x7E).contains($0) }
            guard (1...255).contains(idempotencyKey.utf8.count), isPrintable else {
                throw ValidationError(field: "idempotency_key", message: "must be 1 to 255 printable ASCII characters")
            }
        }
        let resolvedParams = params ?? .defaults(for: kind)
        try resolvedParams.validate(for: kind)
        return NewJob(
            id: id, creatorID: creator, kind: kind, pool: resolvedPool, model: modelID, prompt: prompt,
            negativePrompt: negativePrompt, params: resolvedParams, priority: priority,
            cost: costModel.cost(of: resolvedParams), maxAttempts: maxAttempts, parentID: parentID,
            idempotencyKey: idempotencyKey, requestFingerprint: requestFingerprint
        )
    }
}
