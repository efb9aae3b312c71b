import GRDB

/// The SQLite schema as named, append-only migrations. Never edit a shipped step; add one.
enum SQLiteSchema {
    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-jobs-and-fair-queues") { db in
            try db.execute(sql: """
                CREATE TABLE creators (
                    id          TEXT PRIMARY KEY NOT NULL,
                    name        TEXT NOT NULL UNIQUE,
                    weight      INTEGER NOT NULL CHECK (weight >= 1),
                    created_at  INTEGER NOT NULL
                );

                CREATE TABLE jobs (
                    id               TEXT PRIMARY KEY NOT NULL,
                    creator_id       TEXT NOT NULL REFERENCES creators(id),
                    kind             TEXT NOT NULL,
                    pool             TEXT NOT NULL,
                    model            TEXT NOT NULL,
                    prompt           TEXT NOT NULL,
                    negative_prompt  TEXT,
                    width            INTEGER NOT NULL,
                    height           INTEGER NOT NULL,
                    seed             INTEGER NOT NULL,
                    format           TEXT NOT NULL,
                    frames           INTEGER NOT NULL,
                    fps              INTEGER NOT NULL,
                    steps            INTEGER NOT NULL,
                    priority         INTEGER NOT NULL,
                    cost             INTEGER NOT NULL CHECK (cost >= 1),
                    -- queued | waiting (retry backoff) | running | succeeded | failed | canceled
                    state            TEXT NOT NULL,
                    attempt          INTEGER NOT NULL DEFAULT 0,
                    max_attempts     INTEGER NOT NULL,
                    progress         REAL NOT NULL DEFAULT 0,
                    error_code       TEXT,
                    error_message    TEXT,
                    created_at       INTEGER NOT NULL,
                    started_at       INTEGER,
                    finished_at      INTEGER,
                    available_at     INTEGER NOT NULL,
                    cancel_requested INTEGER NOT NULL DEFAULT 0,
                    parent_id        TEXT REFERENCES jobs(id),
                    idempotency_key  TEXT,
                    request_fingerprint TEXT,
                    lease_holder     TEXT,
                    lease_expires_at INTEGER,
                    lease_fence      INTEGER NOT NULL DEFAULT 0
                );
                -- A creator's next job: highest priority, then oldest. `model` rides along so the
                -- model filter is answered from the index.
                CREATE INDEX jobs_ready ON jobs (pool, creator_id, priority DESC, id, model) WHERE state = 'queued';
                CREATE INDEX jobs_lease_expiry ON jobs (lease_expires_at) WHERE state = 'running';
                CREATE INDEX jobs_retry_due ON jobs (available_at) WHERE state = 'waiting';
                CREATE INDEX jobs_by_creator ON jobs (creator_id, id);
                CREATE INDEX jobs_by_parent ON jobs (parent_id) WHERE parent_id IS NOT NULL;
                CREATE UNIQUE INDEX jobs_idempotency ON jobs (creator_id, idempotency_key)
                    WHERE idempotency_key IS NOT NULL;

                -- Fair-share state per pool and creator (see FairShare): `pass` is the virtual
                -- time served so far, `activation` orders creators that became ready, `ready`
                -- counts the creator's dispatchable jobs in the pool.
                CREATE TABLE fair_queues (
                    pool        TEXT NOT NULL,
                    creator_id  TEXT NOT NULL REFERENCES creators(id),
                    pass        INTEGER NOT NULL,
                    activation  INTEGER NOT NULL,
                    ready       INTEGER NOT NULL CHECK (ready >= 0),
                    PRIMARY KEY (pool, creator_id)
                ) WITHOUT ROWID;
                CREATE INDEX fair_queues_waiting ON fair_queues (pool, pass, activation) WHERE ready > 0;
                CREATE INDEX fair_queues_pass ON fair_queues (pool, pass);
                CREATE INDEX fair_queues_activation ON fair_queues (activation);

                CREATE TABLE artifacts (
                    id            TEXT PRIMARY KEY NOT NULL,
                    job_id        TEXT NOT NULL REFERENCES jobs(id),
                    name          TEXT NOT NULL,
                    content_type  TEXT NOT NULL,
                    bytes         INTEGER NOT NULL,
                    sha256        TEXT NOT NULL,
                    storage_key   TEXT NOT NULL,
                    created_at    INTEGER NOT NULL,
                    UNIQUE (job_id, name)
                );
                """)
        }
        migrator.registerMigration("v2-credits-workers-and-keys") { db in
            try db.execute(sql: """
                ALTER TABLE creators ADD COLUMN credits INTEGER NOT NULL DEFAULT 0;

                CREATE TABLE workers (
                    id          TEXT PRIMARY KEY NOT NULL,
                    name        TEXT NOT NULL UNIQUE,
                    created_at  INTEGER NOT NULL
                );

                -- Only the SHA-256 of a key is kept; the key itself is shown once at creation.
                -- The admin key lives outside the database (environment or admin.key file).
                CREATE TABLE api_keys (
                    key_hash    TEXT PRIMARY KEY NOT NULL,
                    role        TEXT NOT NULL CHECK (role IN ('creator', 'worker')),
                    creator_id  TEXT REFERENCES creators(id),
                    worker_id   TEXT REFERENCES workers(id),
                    created_at  INTEGER NOT NULL,
                    CHECK ((role = 'creator') = (creator_id IS NOT NULL)),
                    CHECK ((role = 'worker') = (worker_id IS NOT NULL))
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3-ledger") { db in
            try db.execute(sql: """
                -- Succeeded jobs waiting for the ledger's sequencer. A row is written in the very
                -- transaction that marks its job succeeded, and leaves only when the entry is in the
                -- log. One B-tree keyed by job (no foreign key, no second index): it is written on
                -- the completion path of every job. The sequencer takes queued jobs in id order.
                CREATE TABLE ledger_queue (
                    job_id  TEXT PRIMARY KEY NOT NULL
                ) WITHOUT ROWID;
                -- The log: one canonical JSON entry per leaf, leaf indexes dense from 0. Only the
                -- sequencer writes it, from joined job rows, so no foreign key is checked per entry.
                CREATE TABLE ledger_entries (
                    leaf_index  INTEGER PRIMARY KEY,
                    job_id      TEXT NOT NULL UNIQUE,
                    entry       BLOB NOT NULL
                );
                -- Every leaf and complete subtree hash, at its StoredHashIndex.
                CREATE TABLE ledger_hashes (
                    id    INTEGER PRIMARY KEY,
                    hash  BLOB NOT NULL
                );
                -- The one key the log is signed with (its verifier key), pinned by the first node.
                CREATE TABLE ledger_key (
                    id          INTEGER PRIMARY KEY CHECK (id = 1),
                    verifier    TEXT NOT NULL,
                    created_at  INTEGER NOT NULL
                );
                -- Every signed tree head, kept for ever.
                CREATE TABLE ledger_checkpoints (
                    tree_size   INTEGER PRIMARY KEY,
                    note        TEXT NOT NULL,
                    created_at  INTEGER NOT NULL
                );
                INSERT INTO ledger_queue (job_id) SELECT id FROM jobs WHERE state = 'succeeded';
                """)
        }
        migrator.registerMigration("v4-film-params") { db in
            try db.execute(sql: """
                -- Films (mp4, webm): how many scenes (0: the planner decides), the transition between
                -- them (NULL: the planner's choice) and whether a GIF preview is made.
                ALTER TABLE jobs ADD COLUMN scenes INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE jobs ADD COLUMN transition TEXT;
                ALTER TABLE jobs ADD COLUMN preview INTEGER NOT NULL DEFAULT 1;
                -- A film's scene jobs are its children; each renders the scene it names (1-based).
                ALTER TABLE jobs ADD COLUMN scene_index INTEGER;
                -- A plan the creator supplied (canonical JSON), carried by the film and its scene jobs.
                ALTER TABLE jobs ADD COLUMN plan TEXT;
                """)
        }
        migrator.registerMigration("v5-uploads") { db in
            try db.execute(sql: """
                -- Reference images and clips. The bytes live in the blob store; what was read from
                -- them (size, duration, palette, brightness, motion) is kept here for planners.
                CREATE TABLE uploads (
                    id            TEXT PRIMARY KEY NOT NULL,
                    creator_id    TEXT NOT NULL REFERENCES creators(id),
                    kind          TEXT NOT NULL CHECK (kind IN ('image', 'video')),
                    content_type  TEXT NOT NULL,
                    bytes         INTEGER NOT NULL,
                    sha256        TEXT NOT NULL,
                    width         INTEGER NOT NULL,
                    height        INTEGER NOT NULL,
                    duration_ms   INTEGER,
                    features      TEXT NOT NULL,
                    storage_key   TEXT NOT NULL,
                    created_at    INTEGER NOT NULL
                );
                CREATE INDEX uploads_by_creator ON uploads (creator_id, id);
                """)
        }
        migrator.registerMigration("v6-credit-log") { db in
            try db.execute(sql: """
                -- creators.credits is the cached balance (grants + adjustments - captures) and
                -- creators.reserved what open jobs hold; both change in the transaction that writes
                -- the log line that explains them (see CreditRules).
                ALTER TABLE creators ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0);
                -- Credits captured when a job ended; NULL while it is open and for scene jobs.
                ALTER TABLE jobs ADD COLUMN charged INTEGER;
                -- The append-only credit log, one table appended to in id order and no index: a
                -- line is written on the queueing and the completion path of every job, and an
                -- index by creator cost more than the line itself (12 µs a line, measured). Each
                -- creator's lines are chained instead, newest first: `previous_id` is the creator's
                -- line before, `creators.last_line` its newest, so a page is a walk of point reads.
                CREATE TABLE credit_transactions (
                    id           INTEGER PRIMARY KEY,
                    creator_id   TEXT NOT NULL,
                    previous_id  INTEGER,
                    kind         TEXT NOT NULL CHECK (kind IN ('grant', 'reserve', 'capture', 'release', 'adjustment')),
                    amount       INTEGER NOT NULL,
                    job_id       TEXT,
                    actor        TEXT NOT NULL,
                    reason       TEXT,
                    created_at   INTEGER NOT NULL
                );
                ALTER TABLE creators ADD COLUMN last_line INTEGER;
                -- Jobs queued before the log existed reserved nothing: they count as settled, free.
                UPDATE jobs SET charged = 0 WHERE parent_id IS NULL;
                INSERT INTO credit_transactions (creator_id, kind, amount, actor, reason, created_at)
                    SELECT id, 'grant', credits, 'atelier', 'balance before the credit log', created_at
                    FROM creators WHERE credits > 0;
                UPDATE creators SET last_line = (SELECT max(id) FROM credit_transactions t WHERE t.creator_id = creators.id);
                """)
        }
        migrator.registerMigration("v7-quotas") { db in
            try db.execute(sql: """
                -- A creator's own limits; NULL follows the platform's defaults (see Quotas).
                ALTER TABLE creators ADD COLUMN max_queued INTEGER;
                ALTER TABLE creators ADD COLUMN max_running INTEGER;
                ALTER TABLE creators ADD COLUMN max_daily_credits INTEGER;
                -- Credits captured on UTC day `spent_day` (days since 1970), kept with every capture:
                -- the daily quota reads it instead of summing the log. No index is added for the
                -- other quotas: they count through structures dispatch keeps anyway (QuotaRules).
                ALTER TABLE creators ADD COLUMN spent_day INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE creators ADD COLUMN spent_today INTEGER NOT NULL DEFAULT 0;
                """)
        }
        return migrator
    }
}
