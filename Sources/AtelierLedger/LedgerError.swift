/// Why a proof, note, checkpoint or log failed to check, in words a person can act on.
public struct LedgerError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
