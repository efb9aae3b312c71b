/// An in-memory weighted fair queue with exactly the dispatch rules of `FairShare`.
///
/// It is the reference model the store engines are checked against, and the engine of
/// simulations: every engine must dispatch in the same order as this queue for the same
/// operations.
public struct FairQueue<Item: Sendable>: Sendable {
    /// One queued item with what the policy needs to know about it.
    public struct Entry: Sendable {
        public var item: Item
        public var creator: String
        public var cost: Int
        public var priority: Int
        /// Arrival order; older first among equal priorities.
        public var sequence: UInt64
    }

    private struct CreatorState: Sendable {
        var pass: Int64
        var activation: UInt64
        var weight: Int
        var queue: [Entry] = []
    }

    private var creators: [String: CreatorState] = [:]
    private var arrivals: UInt64 = 0
    private var activations: UInt64 = 0

    public init() {}

    /// Number of items waiting.
    public var count: Int { creators.values.reduce(0) { $0 + $1.queue.count } }

    /// Adds an item for a creator; a creator whose queue was empty becomes ready at the pool floor.
    public mutating func enqueue(_ item: Item, creator: String, weight: Int, cost: Int, priority: Int = 0) {
        arrivals += 1
        let entry = Entry(item: item, creator: creator, cost: cost, priority: priority, sequence: arrivals)
        if var state = creators[creator], !state.queue.isEmpty {
            state.weight = weight
            insert(entry, into: &state.queue)
            creators[creator] = state
            return
        }
        let floor = FairShare.poolFloor(minimumWaitingPass: minimumWaitingPass, maximumPass: maximumPass)
        activations += 1
        var state = CreatorState(
            pass: FairShare.activationPass(previous: creators[creator]?.pass, floor: floor),
            activation: activations, weight: weight
        )
        state.queue = [entry]
        creators[creator] = state
    }

    /// Removes and returns the next item by the fair-share rules, or `nil` when empty.
    public mutating func dequeue(where accepts: (Entry) -> Bool = { _ in true }) -> Entry? {
        let order = creators.filter { !$0.value.queue.isEmpty }
            .sorted { ($0.value.pass, $0.value.activation) < ($1.value.pass, $1.value.activation) }
        for (name, var state) in order {
            guard let index = state.queue.firstIndex(where: accepts) else { continue }
            let entry = state.queue.remove(at: index)
            state.pass += FairShare.charge(cost: entry.cost, weight: state.weight)
            creators[name] = state
            return entry
        }
        return nil
    }

    private var minimumWaitingPass: Int64? {
        creators.values.filter { !$0.queue.isEmpty }.map(\.pass).min()
    }

    private var maximumPass: Int64? { creators.values.map(\.pass).max() }

    /// Keeps a creator's queue ordered by priority (high first), then arrival; the newest entry
    /// goes behind every other of its priority.
    private func insert(_ entry: Entry, into queue: inout [Entry]) {
        let index = queue.firstIndex { $0.priority < entry.priority } ?? queue.endIndex
        queue.insert(entry, at: index)
    }
}
