import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL schema as numbered, append-only migrations. Never edit a shipped step; add one.
///
/// The tables mirror the SQLite schema column for column (times are integer microseconds since
/// 1970 in both), so `StoredRows` decodes either engine's rows.
enum PostgresSchema {
    struct Migration {
        var version: Int
        var name: String
        var sql: String
    }

    /// Any two nodes starting at once serialise here: the lock is held for the migration
    /// transaction only.
    static let advisoryLockKey: Int64 = 0x4154_454C_4945_5201  // "ATELIER" + 1

    static let migrations: [Migration] = [
        Migration(version: 1, name: "jobs-fair-queues-creators-workers-keys", sql: """
            CREATE TABLE creators (
                id          TEXT PRIMARY KEY,
                name        TEXT NOT NULL UNIQUE,
                weight      BIGINT NOT NULL CHECK (weight >= 1),
                credits     BIGINT NOT NULL DEFAULT 0,
                created_at  BIGINT NOT NULL
            );

            CREATE TABLE jobs (
                id               TEXT PRIMARY KEY,
                creator_id       TEXT NOT NULL REFERENCES creators(id),
                kind             TEXT NOT NULL,
                pool             TEXT NOT NULL,
                model            TEXT NOT NULL,
                prompt           TEXT NOT NULL,
                negative_prompt  TEXT,
                width            BIGINT NOT NULL,
                height           BIGINT NOT NULL,
                seed             BIGINT NOT NULL,
                format           TEXT NOT NULL,
                frames           BIGINT NOT NULL,
                fps              BIGINT NOT NULL,
                steps            BIGINT NOT NULL,
                priority         BIGINT NOT NULL,
                cost             BIGINT NOT NULL CHECK (cost >= 1),
                -- queued | waiting (retry backoff) | running | succeeded | failed | canceled
                state            TEXT NOT NULL,
                attempt          BIGINT NOT NULL DEFAULT 0,
                max_attempts     BIGINT NOT NULL,
                progress         DOUBLE PRECISION NOT NULL DEFAULT 0,
                error_code       TEXT,
                error_message    TEXT,
                created_at       BIGINT NOT NULL,
                started_at       BIGINT,
                finished_at      BIGINT,
                available_at     BIGINT NOT NULL,
                cancel_requested BIGINT NOT NULL DEFAULT 0,
                parent_id        TEXT REFERENCES jobs(id),
                idempotency_key  TEXT,
                request_fingerprint TEXT,
                lease_holder     TEXT,
                lease_expires_at BIGINT,
                lease_fence      BIGINT NOT NULL DEFAULT 0
            );
            CREATE INDEX jobs_ready ON jobs (pool, creator_id, priority DESC, id) INCLUDE (model, cost)
                WHERE state = 'queued';
            CREATE INDEX jobs_lease_expiry ON jobs (lease_expires_at) WHERE state = 'running';
            CREATE INDEX jobs_retry_due ON jobs (available_at) WHERE state = 'waiting';
            CREATE INDEX jobs_by_creator ON jobs (creator_id, id);
            CREATE INDEX jobs_by_parent ON jobs (parent_id) WHERE parent_id IS NOT NULL;
            CREATE UNIQUE INDEX jobs_idempotency ON jobs (creator_id, idempotency_key)
                WHERE idempotency_key IS NOT NULL;

            -- Fair-share state per pool and creator (see FairShare). Dispatchers lock the rows of
            -- the creators they serve (FOR UPDATE SKIP LOCKED), so two nodes never serve the same
            -- creator's queue at once and never wait for each other.
            CREATE SEQUENCE fair_queue_activation;
            CREATE TABLE fair_queues (
                pool        TEXT NOT NULL,
                creator_id  TEXT NOT NULL REFERENCES creators(id),
                pass        BIGINT NOT NULL,
                activation  BIGINT NOT NULL,
                ready       BIGINT NOT NULL CHECK (ready >= 0),
                PRIMARY KEY (pool, creator_id)
            );
            CREATE INDEX fair_queues_waiting ON fair_queues (pool, pass, activation) WHERE ready > 0;

            CREATE TABLE artifacts (
                id            TEXT PRIMARY KEY,
                job_id        TEXT NOT NULL REFERENCES jobs(id),
                name          TEXT NOT NULL,
                content_type  TEXT NOT NULL,
                bytes         BIGINT NOT NULL,
                sha256        TEXT NOT NULL,
                storage_key   TEXT NOT NULL,
                created_at    BIGINT NOT NULL,
                UNIQUE (job_id, name)
            );

            CREATE TABLE workers (
                id          TEXT PRIMARY KEY,
                name        TEXT NOT NULL UNIQUE,
                created_at  BIGINT NOT NULL
            );

            -- Only the SHA-256 of a key is kept; the key itself is shown once at creation.
            CREATE TABLE api_keys (
                key_hash    TEXT PRIMARY KEY,
                role        TEXT NOT NULL CHECK (role IN ('creator', 'worker')),
                creator_id  TEXT REFERENCES creators(id),
                worker_id   TEXT REFERENCES workers(id),
                created_at  BIGINT NOT NULL,
                CHECK ((role = 'creator') = (creator_id IS NOT NULL)),
                CHECK ((role = 'worker') = (worker_id IS NOT NULL))
            );
            """),
        Migration(version: 2, name: "ledger", sql: """
            CREATE TABLE ledger_queue (
                job_id  TEXT PRIMARY KEY
            );
            CREATE TABLE ledger_entries (
                leaf_index  BIGINT PRIMARY KEY,
                job_id      TEXT NOT NULL UNIQUE,
                entry       BYTEA NOT NULL
            );
            CREATE TABLE ledger_hashes (
                id    BIGINT PRIMARY KEY,
                hash  BYTEA NOT NULL
            );
            CREATE TABLE ledger_key (
                id          INTEGER PRIMARY KEY CHECK (id = 1),
                verifier    TEXT NOT NULL,
                created_at  BIGINT NOT NULL
            );
            CREATE TABLE ledger_checkpoints (
                tree_size   BIGINT PRIMARY KEY,
                note        TEXT NOT NULL,
                created_at  BIGINT NOT NULL
            );
            INSERT INTO ledger_queue (job_id) SELECT id FROM jobs WHERE state = 'succeeded'
            """),
        Migration(version: 3, name: "film-params", sql: """
            ALTER TABLE jobs ADD COLUMN scenes BIGINT NOT NULL DEFAULT 0;
            ALTER TABLE jobs ADD COLUMN transition TEXT;
            ALTER TABLE jobs ADD COLUMN preview BIGINT NOT NULL DEFAULT 1;
            ALTER TABLE jobs ADD COLUMN scene_index BIGINT;
            ALTER TABLE jobs ADD COLUMN plan TEXT
            """),
        Migration(version: 4, name: "uploads", sql: """
            CREATE TABLE uploads (
                id            TEXT PRIMARY KEY,
                creator_id    TEXT NOT NULL REFERENCES creators(id),
                kind          TEXT NOT NULL CHECK (kind IN ('image', 'video')),
                content_type  TEXT NOT NULL,
                bytes         BIGINT NOT NULL,
                sha256        TEXT NOT NULL,
                width         BIGINT NOT NULL,
                height        BIGINT NOT NULL,
                duration_ms   BIGINT,
                features      TEXT NOT NULL,
                storage_key   TEXT NOT NULL,
                created_at    BIGINT NOT NULL
            );
            CREATE INDEX uploads_by_creator ON uploads (creator_id, id)
            """),
        Migration(version: 5, name: "credit-log", sql: """
            ALTER TABLE creators ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0);
            ALTER TABLE jobs ADD COLUMN charged BIGINT;
            CREATE TABLE credit_transactions (
                id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                creator_id  TEXT NOT NULL REFERENCES creators(id),
                kind        TEXT NOT NULL CHECK (kind IN ('grant', 'reserve', 'capture', 'release', 'adjustment')),
                amount      BIGINT NOT NULL,
                job_id      TEXT,
                actor       TEXT NOT NULL,
                reason      TEXT,
                created_at  BIGINT NOT NULL
            );
            CREATE INDEX credit_transactions_by_creator ON credit_transactions (creator_id, id);
            UPDATE jobs SET charged = 0 WHERE parent_id IS NULL;
            INSERT INTO credit_transactions (creator_id, kind, amount, actor, reason, created_at)
                SELECT id, 'grant', credits, 'atelier', 'balance before the credit log', created_at
                FROM creators WHERE credits > 0
            """),
        Migration(version: 6, name: "quotas", sql: """
            ALTER TABLE creators ADD COLUMN max_queued BIGINT;
            ALTER TABLE creators ADD COLUMN max_running BIGINT;
            ALTER TABLE creators ADD COLUMN max_daily_credits BIGINT;
            ALTER TABLE creators ADD COLUMN spent_day BIGINT NOT NULL DEFAULT 0;
            ALTER TABLE creators ADD COLUMN spent_today BIGINT NOT NULL DEFAULT 0
            """),
        // The log's foreign key ran a lookup of the creator for every line (PostgreSQL checks a
        // foreign key per row): ~5 µs per job queued and per job ended. Every line is written by
        // a statement that updates its creator's account in the same transaction (creators are
        // never deleted), as on SQLite, which never had the key.
        Migration(version: 7, name: "credit-log-lines-unchecked", sql: """
            ALTER TABLE credit_transactions DROP CONSTRAINT IF EXISTS credit_transactions_creator_id_fkey
            """),
        // A statement that must write everything or nothing calls this to roll itself back
        // (`EnqueueAndReserveStatement`); its callers recognise the SQLSTATE.
        Migration(version: 8, name: "refuse-function", sql: """
            CREATE OR REPLACE FUNCTION atelier_refuse(reason TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'AT001', MESSAGE = 'atelier: ' || reason; END $$
            """),
    ]

    /// Applies the migrations the database has not seen, in one transaction under an advisory
    /// lock; returns the versions applied.
    @discardableResult
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.query("BEGIN", logger: logger)
        do {
            try await connection.query("SELECT pg_advisory_xact_lock(\(advisoryLockKey))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS atelier_migrations (
                    version     BIGINT PRIMARY KEY,
                    name        TEXT NOT NULL,
                    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
                )
                """, logger: logger)
            var applied: Set<Int> = []
            for try await version in try await connection.query("SELECT version FROM atelier_migrations", logger: logger)
                .decode(Int64.self) {
                applied.insert(Int(version))
            }
            var done: [Int] = []
            for migration in migrations where !applied.contains(migration.version) {
                // One statement at a time: the extended protocol takes a single command.
                for statement in migration.sql.components(separatedBy: ";\n")
                    where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO atelier_migrations (version, name) VALUES (\(Int64(migration.version)), \(migration.name))",
                    logger: logger)
                done.append(migration.version)
            }
            try await connection.query("COMMIT", logger: logger)
            return done
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }
}

extension PostgresSchema {
    /// The condition for a statement that finds jobs **by id** and wants them only in `state`:
    /// `state IS NOT DISTINCT FROM 'running'` where `state = 'running'` would read naturally.
    ///
    /// The plain equality proves the predicate of a partial index (`jobs_ready`,
    /// `jobs_lease_expiry`), and the planner costs that index by the statistics of the last
    /// ANALYZE. A queue's states churn faster than that: with statistics gathered while almost no
    /// job was queued, a lease batch of 500 read all 50,000 queued entries of `jobs_ready` and
    /// filtered them by id (0.75 s, against 20 ms through the primary key), and a heartbeat read
    /// every running job's. No partial index's predicate can be proven from `IS NOT DISTINCT
    /// FROM`, so these statements go through the primary key whatever the statistics say. (The
    /// state column is `NOT NULL`, so the two conditions select the same rows.)
    static func jobByID(inState state: StaticString) -> String {
        "state IS NOT DISTINCT FROM '\(state)'"
    }
}
