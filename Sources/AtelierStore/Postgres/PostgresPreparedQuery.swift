import Logging
import PostgresNIO

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
    static var sql: String { example.query.sql }

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
