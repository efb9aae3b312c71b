import AtelierCore
import AtelierScheduler
import GRDB

/// Plans one lease batch inside the write transaction: the same choices as leasing one job at
/// a time by the `FairShare` rules, made in memory from a few reads, then applied with one
/// update of the jobs and one of each creator's fair-queue row.
///
/// Creators are read in dispatch order a page at a time. The first creator not yet read is the
/// *boundary*: a read creator may be served only while it still comes before the boundary
/// (its pass only grows as it is served), otherwise the next page is read first. Head jobs are
/// read per creator in priority-then-age order, a chunk at a time.
struct SQLiteLeasePlanner {
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
        /// Head jobs read but not yet planned: (id, cost, priority).
        var heads: [(id: String, cost: Int, priority: Int)] = []
        var headIndex = 0
        var isExhausted = false
        /// How many more jobs the creator may run (its running cap less what runs); nil: no cap.
        var headroom: Int?

        var key: (Int64, Int64) { (pass, activation) }
    }

    let db: Database
    let pool: PoolName
    let models: [String]
    let limit: Int
    /// The running cap of creators without one of their own (nil: none).
    let defaultMaxRunning: Int?

    private var lines: [CreatorLine] = []
    private var readCount = 0
    private var boundary: (Int64, Int64)?
    private var hasUnread = true

    init(db: Database, pool: PoolName, models: [String], limit: Int, defaultMaxRunning: Int?) {
        self.db = db
        self.pool = pool
        self.models = models
        self.limit = limit
        self.defaultMaxRunning = defaultMaxRunning
    }

    /// The jobs to lease, in dispatch order, and each touched creator's new pass and count.
    mutating func plan() throws -> (jobs: [Planned], creators: [(CreatorID, pass: Int64, served: Int)]) {
        var planned: [Planned] = []
        planned.reserveCapacity(limit)
        while planned.count < limit {
            guard let index = try nextLine() else { break }
            // A creator at its running cap is passed over without being charged, so the others
            // share the slots as if it were not waiting; it is served again once a job ends.
            if let headroom = lines[index].headroom, lines[index].served >= headroom {
                lines[index].isExhausted = true
                continue
            }
            guard try ensureHead(index, wanted: limit - planned.count) else {
                lines[index].isExhausted = true
                continue
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

    /// The creator to serve next, reading more creators when the boundary requires it.
    private mutating func nextLine() throws -> Int? {
        while true {
            var best: Int?
            for index in lines.indices where lines[index].ready > 0 && !lines[index].isExhausted {
                if best == nil || lines[index].key < lines[best!].key { best = index }
            }
            if let best, boundary == nil || lines[best].key < boundary! { return best }
            guard hasUnread else { return best }
            try readCreators(page: max(8, limit - readCount))
        }
    }

    private mutating func readCreators(page: Int) throws {
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT q.creator_id, c.weight, q.pass, q.activation, q.ready,
                    CASE WHEN COALESCE(c.max_running, ?4) IS NULL THEN NULL
                         ELSE COALESCE(c.max_running, ?4) - (SELECT count(*) FROM jobs r INDEXED BY jobs_lease_expiry
                                                             WHERE r.state = 'running' AND r.creator_id = q.creator_id) END
                FROM fair_queues q JOIN creators c ON c.id = q.creator_id
                WHERE q.pool = ?1 AND q.ready > 0
                ORDER BY q.pass, q.activation
                LIMIT ?2 OFFSET ?3
                """),
            arguments: [pool.rawValue, page + 1, readCount, defaultMaxRunning]
        )
        // The extra row is the boundary; it is read again (and kept) with the next page.
        let kept = rows.prefix(page)
        for row in kept {
            lines.append(CreatorLine(creator: CreatorID(rawValue: row[0])!, weight: row[1], pass: row[2],
                                     activation: row[3], ready: row[4], headroom: row[5]))
        }
        readCount += kept.count
        if rows.count > page {
            boundary = (rows[page][2], rows[page][3])
        } else {
            boundary = nil
            hasUnread = false
        }
    }

    /// Makes sure the creator has an unplanned head job for these models; false when it has none.
    private mutating func ensureHead(_ index: Int, wanted: Int) throws -> Bool {
        if lines[index].headIndex < lines[index].heads.count { return true }
        // Expect about an equal share of what is still wanted; read more later if served more.
        let waitingLines = max(1, lines.count { $0.ready > 0 && !$0.isExhausted })
        let chunk = max(1, min(lines[index].ready, 256, wanted / waitingLines + 4))
        let placeholders = (0..<models.count).map { "?\($0 + 3)" }.joined(separator: ", ")
        let last = lines[index].heads.last
        let after = last == nil ? "" : "AND (priority < ?\(models.count + 4) OR (priority = ?\(models.count + 4) AND id > ?\(models.count + 5)))"
        // Read through SQLite's C API: one row per job leased passes through here.
        let select = SQLiteRawStatement(try db.cachedStatement(sql: """
            SELECT id, cost, priority FROM jobs INDEXED BY jobs_ready
            WHERE pool = ?1 AND creator_id = ?2 AND state = 'queued' AND model IN (\(placeholders)) \(after)
            ORDER BY priority DESC, id LIMIT ?\(models.count + 6)
            """))
        select.bind(1, pool.rawValue)
        select.bind(2, lines[index].creator.rawValue)
        for (offset, model) in models.enumerated() { select.bind(Int32(offset + 3), model) }
        if let last {
            select.bind(Int32(models.count + 4), last.priority)
            select.bind(Int32(models.count + 5), last.id)
        }
        select.bind(Int32(models.count + 6), chunk)
        var heads: [(id: String, cost: Int, priority: Int)] = []
        heads.reserveCapacity(chunk)
        while try select.step() {
            heads.append((id: select.text(0) ?? "", cost: Int(select.integer(1) ?? 1), priority: Int(select.integer(2) ?? 0)))
        }
        lines[index].heads = heads
        lines[index].headIndex = 0
        return !heads.isEmpty
    }
}
