/// The arithmetic of weighted fair dispatch, shared by every store engine and the reference queue.
///
/// Each (pool, creator) pair carries a *pass*: the virtual time up to which the creator has been
/// served. Dispatch always serves the waiting creator with the smallest pass (ties go to the one
/// that became ready first) and then advances its pass by `charge(cost:weight:)`. This is
/// start-time fair queueing over creators, the virtual-time form of weighted deficit round robin:
///
/// - a creator's quantum is proportional to its weight (its pass advances by cost / weight);
/// - the item size is the job's cost;
/// - idle time earns no credit: a creator whose queue emptied re-enters at `activationPass`,
///   never below the pool's current virtual time, so it cannot jump ahead of those waiting;
/// - the deficit is capped: a backlogged creator is never more than one job's charge away from
///   the minimum, so for two creators backlogged over any interval the weight-normalised service
///   differs by at most `maxCost/w_i + maxCost/w_j` (Goyal, Vin & Cheng, SFQ, 1996).
public enum FairShare {
    /// Virtual-time units per credit at weight 1. Large enough that integer division by any
    /// allowed weight keeps three significant digits.
    public static let scale: Int64 = 1 << 20

    /// How far a creator's pass advances when a job of `cost` credits is dispatched to it.
    public static func charge(cost: Int, weight: Int) -> Int64 {
        let weight = Int64(max(1, weight))
        let cost = Int64(max(1, cost))
        return (cost * scale + weight - 1) / weight
    }

    /// The pass a creator takes when its queue goes from empty to non-empty.
    ///
    /// - Parameters:
    ///   - previous: the creator's pass from before it went idle, if it has one in this pool.
    ///   - floor: the pool's virtual time (see `poolFloor`).
    public static func activationPass(previous: Int64?, floor: Int64?) -> Int64 {
        max(previous ?? 0, floor ?? 0)
    }

    /// The pool's virtual time as seen by a creator becoming ready: the smallest pass among
    /// creators already waiting or, when nobody waits, the largest pass ever reached (so that a
    /// newcomer never holds credit over creators that were served while it was away).
    public static func poolFloor(minimumWaitingPass: Int64?, maximumPass: Int64?) -> Int64? {
        minimumWaitingPass ?? maximumPass
    }
}
