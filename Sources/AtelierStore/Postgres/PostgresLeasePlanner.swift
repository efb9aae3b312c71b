import AtelierCore
import AtelierScheduler
import Logging
import PostgresNIO

/// Plans one lease batch inside the dispatch transaction by the `FairShare` rules, like
/// `SQLiteLeasePlanner`, with two differences that come from sharing the database:
///
/// - creators are read and **locked** a page at a time with `FOR UPDATE SKIP LOCKED`, in
///   (pass, activation) order; a creator another dispatcher is serving is skipped, not waited
///   for, and its jobs cannot be taken twice because only the holder of a creator's row leases
///   that creator's jobs;
/// - each page arrives with every creator's first head jobs (a LATERAL join), so a page costs
///   one round trip.
///
/// The last creator of a full page is the *boundary*: a read creator may be served only while it
/// still comes before it (its pass only grows), otherwise the next page is read first.
///
/// A creator skipped because another dispatcher holds it is a boundary too, and one that no
/// page read moves: the plan stops before serving anyone past it (the holder serves it now,
/// then the next lease comes back to the rest). Without that, a dispatcher whose page read ran
/// beside another's could lock only the later creators and spend its whole batch on them — out
/// of order by a batch each time it happened; the two-node shares probe saw 4–7 points.
struct PostgresLeasePlanner {
    struct Planned {
        var jobID: String
        var creator: CreatorID
    }

    private struct CreatorLine {
        var creator: CreatorID
        var weight: Int
        var pass: Int64
        var activation: Int64
        var ready: Int
        var served = 0
        var heads: [(id: String, cost: Int, priority: Int)] = []
        var headIndex = 0
        /// All of this creator's matching jobs are in `heads`.
        var headsComplete = false
        /// How many more jobs the creator may run (its running cap less what runs); nil: no cap.
        var headroom: Int?
        var atCap: Bool { headroom.map { served >= $0 } ?? false }

        var key: (Int64, Int64) { (pass, activation) }
        var hasHead: Bool { headIndex < heads.count }
    }

    let connection: PostgresConnection
    let logger: Logger
    let pool: PoolName
    let models: [String]
    let limit: Int
    /// The running cap of creators without one of their own (nil: none).
    let defaultMaxRunning: Int?
    /// Read each creator's jobs in a statement after the one that locked it (see
    /// `PostgresJobStore.planAfterLocking`) instead of with the page that locks it.
    let readsHeadsAfterLocking: Bool

    private var lines: [CreatorLine] = []
    private var boundary: (pass: Int64, activation: Int64)?
    /// The first waiting creator a page read skipped because another dispatcher held it.
    private var held: (pass: Int64, activation: Int64)?
    private var hasUnread = true

    init(connection: PostgresConnection, logger: Logger, pool: PoolName, models: [String], limit: Int,
         defaultMaxRunning: Int?, readsHeadsAfterLocking: Bool = false) {
        self.connection = connection
        self.logger = logger
        self.pool = pool
        self.models = models
        self.limit = limit
        self.defaultMaxRunning = defaultMaxRunning
        self.readsHeadsAfterLocking = readsHeadsAfterLocking
    }

    /// The jobs to lease, in dispatch order, and each touched creator's new pass and count.
    mutating func plan() async throws -> (jobs: [Planned], creators: [(CreatorID, pass: Int64, served: Int)]) {
        var planned: [Planned] = []
        planned.reserveCapacity(limit)
        while planned.count < limit {
            guard let index = try await nextLine() else { break }
            if !lines[index].hasHead {
                try await readMoreHeads(index)
                guard lines[index].hasHead else { continue }
            }
            var line = lines[index]
            let head = line.heads[line.headIndex]
            line.headIndex += 1
            line.pass += FairShare.charge(cost: head.cost, weight: line.weight)
            line.ready -= 1
            line.served += 1
            lines[index] = line
            planned.append(Planned(jobID: head.id, creator: line.creator))
        }
        let touched = lines.filter { $0.served > 0 }.map { ($0.creator, pass: $0.pass, served: $0.served) }
        return (planned, touched)
    }

    /// The creator to serve next, reading (and locking) more creators when the boundary requires it.
    private mutating func nextLine() async throws -> Int? {
        while true {
            var best: Int?
            // A creator at its running cap is passed over without being charged, so the others
            // share the slots as if it were not waiting.
            for index in lines.indices
            where lines[index].ready > 0 && !lines[index].atCap && (lines[index].hasHead || !lines[index].headsComplete) {
                if best == nil || lines[index].key < lines[best!].key { best = index }
            }
            if let best, let held, lines[best].key >= held { return nil }
            if let best, boundary == nil || lines[best].key < (boundary!.pass, boundary!.activation) { return best }
            guard hasUnread else { return best }
            try await readCreators()
        }
    }

    private mutating func readCreators() async throws {
        let page = min(64, max(8, limit + 1))
        // With no heads in the page, each creator's are read by `readMoreHeads`, in a later
        // statement and so with a snapshot taken after the lock.
        let heads = readsHeadsAfterLocking ? 0 : min(64, limit)
        let after = boundary ?? (pass: Int64.min, activation: Int64.min)
        let rows = try await connection.rows(CreatorPageStatement(
            pool: pool.rawValue, afterPass: after.pass, afterActivation: after.activation, page: Int64(page),
            models: models, heads: Int64(heads), maxRunning: defaultMaxRunning.map { Int64($0) }), logger: logger)
        var pageLines: [CreatorLine] = []
        // The first waiting creator this read did not lock: held by another dispatcher if it comes
        // before the page's last creator (or the page is not full), else merely not read yet.
        var skipped: (pass: Int64, activation: Int64)?
        for row in rows {
            let columns = PostgresColumns(row)
            let creator = CreatorID(rawValue: columns.text(0) ?? "") ?? CreatorID(rawValue: "invalid")!
            if pageLines.last?.creator != creator {
                pageLines.append(CreatorLine(
                    creator: creator, weight: Int(columns.integer(1) ?? 1), pass: columns.integer(2) ?? 0,
                    activation: columns.integer(3) ?? 0, ready: Int(columns.integer(4) ?? 0),
                    headroom: columns.integer(8).map { Int($0) }))
            }
            if let pass = columns.integer(9), let activation = columns.integer(10) { skipped = (pass, activation) }
            if let id = columns.text(5) {
                pageLines[pageLines.count - 1].heads.append(
                    (id: id, cost: Int(columns.integer(6) ?? 1), priority: Int(columns.integer(7) ?? 0)))
            }
        }
        for index in pageLines.indices where heads > 0 && pageLines[index].heads.count < heads {
            pageLines[index].headsComplete = true
        }
        // Creators already read (the previous boundary is read again) are not added twice.
        let known = Set(lines.map(\.creator))
        let isFull = pageLines.count >= page
        if let skipped, !isFull || pageLines.last.map({ skipped < $0.key }) == true {
            if held.map({ skipped < $0 }) ?? true { held = skipped }
        }
        if isFull, let last = pageLines.last {
            boundary = (last.pass, last.activation)
            pageLines.removeLast()
        } else {
            boundary = nil
            hasUnread = false
        }
        lines += pageLines.filter { !known.contains($0.creator) }
    }

    /// Reads the creator's next head jobs after the ones already planned (its first ones when
    /// the page brought none).
    private mutating func readMoreHeads(_ index: Int) async throws {
        guard !lines[index].headsComplete else { return }
        let chunk = Int64(min(256, max(1, limit)))
        // Before every job: a priority above any and an id below any.
        let last = lines[index].heads.last ?? (id: "", cost: 0, priority: Int.max)
        let rows = try await connection.query("""
            SELECT id, cost, priority FROM jobs
            WHERE pool = \(pool.rawValue) AND creator_id = \(lines[index].creator.rawValue) AND state = 'queued'
              AND model = ANY(\(models))
              AND (priority < \(Int64(last.priority)) OR (priority = \(Int64(last.priority)) AND id > \(last.id)))
            ORDER BY priority DESC, id
            LIMIT \(chunk)
            """, logger: logger).collect()
        lines[index].heads = rows.map { row in
            let columns = PostgresColumns(row)
            return (id: columns.text(0) ?? "", cost: Int(columns.integer(1) ?? 1), priority: Int(columns.integer(2) ?? 0))
        }
        lines[index].headIndex = 0
        if lines[index].heads.count < Int(chunk) { lines[index].headsComplete = true }
    }
}

/// The planner's page read: the next creators in (pass, activation) order, locked, each with its
/// first head jobs, and on every row the key of the first waiting creator not locked (`skipped`:
/// held by another dispatcher, or past the page). Prepared: it runs on every dispatch.
private struct CreatorPageStatement: PostgresPreparedQuery {
    var pool: String
    var afterPass: Int64
    var afterActivation: Int64
    var page: Int64
    var models: [String]
    var heads: Int64
    var maxRunning: Int64?

    static let example = CreatorPageStatement(pool: "", afterPass: 0, afterActivation: 0, page: 1, models: [], heads: 1,
                                              maxRunning: nil)

    var query: PostgresQuery {
        """
        WITH c AS (
            SELECT q.creator_id, q.pass, q.activation, q.ready
            FROM fair_queues q
            WHERE q.pool = \(pool)::text AND q.ready > 0
              AND (q.pass, q.activation) >= (\(afterPass)::bigint, \(afterActivation)::bigint)
            ORDER BY q.pass, q.activation
            LIMIT \(page)::bigint
            FOR UPDATE OF q SKIP LOCKED
        )
        , skipped AS (
            SELECT q.pass, q.activation FROM fair_queues q
            WHERE q.pool = \(pool)::text AND q.ready > 0
              AND (q.pass, q.activation) >= (\(afterPass)::bigint, \(afterActivation)::bigint)
              AND q.creator_id NOT IN (SELECT creator_id FROM c)
            ORDER BY q.pass, q.activation
            LIMIT 1
        )
        SELECT c.creator_id, cr.weight, c.pass, c.activation, c.ready, h.id, h.cost, h.priority,
            CASE WHEN COALESCE(cr.max_running, \(maxRunning)::bigint) IS NULL THEN NULL
                 ELSE COALESCE(cr.max_running, \(maxRunning)::bigint) - (SELECT count(*) FROM jobs r
                      WHERE r.creator_id = c.creator_id AND r.state = 'running') END,
            (SELECT pass FROM skipped), (SELECT activation FROM skipped)
        FROM c JOIN creators cr ON cr.id = c.creator_id
        LEFT JOIN LATERAL (
            SELECT j.id, j.cost, j.priority FROM jobs j
            WHERE j.pool = \(pool)::text AND j.creator_id = c.creator_id AND j.state = 'queued'
              AND j.model = ANY(\(models)::text[])
            ORDER BY j.priority DESC, j.id
            LIMIT \(heads)::bigint
        ) h ON true
        ORDER BY c.pass, c.activation, h.priority DESC, h.id
        """
    }
}
