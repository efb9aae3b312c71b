/// How a job's reservation ends, the same on both engines. Applied in the transaction that
/// ends the job, so a credit is never captured twice nor left held by a finished job.
///
/// - A job's reservation is its `cost`, taken in the transaction that queues it. A film's scene
///   jobs reserve nothing: they draw on the film's reservation, which settles when the film ends.
/// - **succeeded**: the reservation is captured (the built-in backend's actual price is the
///   estimate; a backend that reports less will have the rest released).
/// - **failed**: released in full — the platform, not the creator, pays for work that failed.
/// - **canceled**: the creator pays for the work done: ⌊progress × cost⌋ is captured and the rest
///   released. A job that never started has progress 0; progress returns to 0 whenever a job
///   goes back to the queue to start over (retry, lease expiry, hand-back), except that a film
///   whose scenes are done keeps their share while its compose step waits.
enum CreditRules {
    enum Dialect { case sqlite, postgres }

    /// SQL that yields the credits to capture for a job row that just reached its terminal
    /// state (columns `state`, `progress`, `cost`).
    static func chargeSQL(_ dialect: Dialect) -> String {
        // Progress is clamped to [0, 1] when stored; the fraction rounds down.
        let fraction = switch dialect {
        case .sqlite: "CAST(progress * cost AS INTEGER)"
        case .postgres: "floor(progress * cost)::bigint"
        }
        return "CASE state WHEN 'succeeded' THEN cost WHEN 'canceled' THEN \(fraction) ELSE 0 END"
    }

    /// A job's progress when it goes back to the queue to start over: a film whose scenes are
    /// done keeps their share, anything else starts from nothing.
    static let restartProgressSQL = """
        (CASE WHEN EXISTS (SELECT 1 FROM jobs AS child WHERE child.parent_id = jobs.id) THEN \(FamilyRules.scenesShare) ELSE 0 END)
        """
}

/// One job's reservation ending: `charged` of its `cost` captured, the rest released.
struct CreditSettlement: Sendable, Hashable {
    var creatorID: String
    var jobID: String
    var cost: Int
    var charged: Int
    var state: String

    var released: Int { cost - charged }

    /// The reason written on the job's capture and release lines.
    var reason: String { Self.reason(forState: state) }

    /// The reason written on the lines of a job that ended in `state`.
    static func reason(forState state: String) -> String {
        switch state {
        case "succeeded": "job succeeded"
        case "canceled": "job canceled"
        default: "job failed"
        }
    }
}

extension Sequence<CreditSettlement> {
    /// Per creator, in id order (the order accounts are locked in): credits captured and
    /// reservations ended.
    func totalsByCreator() -> [(creator: String, charged: Int, cost: Int)] {
        var totals: [String: (charged: Int, cost: Int)] = [:]
        for settlement in self {
            totals[settlement.creatorID, default: (0, 0)].charged += settlement.charged
            totals[settlement.creatorID, default: (0, 0)].cost += settlement.cost
        }
        return totals.keys.sorted().map { ($0, totals[$0]!.charged, totals[$0]!.cost) }
    }
}
