import Logging
import PostgresNIO
import Synchronization

/// A hot statement that each pooled connection parses and plans once, then only binds.
///
/// Its text comes from `query`, built by the same string interpolation as any other statement:
/// the text (and so the prepared plan) is the same whatever the values, because values only ever
/// become `$n` placeholders. Every placeholder carries an explicit cast in the SQL, so its type
/// is what the cast says rather than what the server would infer.
protocol PostgresPreparedQuery: PostgresPreparedStatement where Row == PostgresRow {
    /// Any instance: only its `query`'s text is used.
    static var example: Self { get }
    var query: PostgresQuery { get }
}

extension PostgresPreparedQuery {
    /// postgres-nio asks for the text and the name on every execution, not only when it
    /// prepares; both are made once per statement type (the text would otherwise be built
    /// twice per execution, once more by `makeBindings`, and the name by reflection).
    static var sql: String { PreparedQueryTexts.shared.text(for: Self.self).sql }
    static var name: String { PreparedQueryTexts.shared.text(for: Self.self).name }

    func makeBindings() throws -> PostgresBindings { query.binds }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension PostgresConnection {
    /// Runs a prepared statement and reads all of its rows (reading them is also what surfaces
    /// an error raised while the statement runs).
    func rows<Statement: PostgresPreparedQuery>(_ statement: Statement, logger: Logger) async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in try await execute(statement, logger: logger) { rows.append(row) }
        return rows
    }
}

/// The text and name of each prepared statement type, made on first use.
private final class PreparedQueryTexts: Sendable {
    static let shared = PreparedQueryTexts()
    private let texts = Mutex<[ObjectIdentifier: (sql: String, name: String)]>([:])

    func text<Statement: PostgresPreparedQuery>(for type: Statement.Type) -> (sql: String, name: String) {
        let key = ObjectIdentifier(type)
        if let known = texts.withLock({ $0[key] }) { return known }
        let made = (sql: Statement.example.query.sql, name: String(reflecting: type))
        texts.withLock { $0[key] = made }
        return made
    }
}
