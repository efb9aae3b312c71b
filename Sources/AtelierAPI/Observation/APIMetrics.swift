import AtelierCore
import AtelierStore
import Foundation
public import Prometheus
import Synchronization

/// The server's Prometheus metrics, in a registry of its own (no global state, so several
/// servers can live in one test process).
public final class APIMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    static let latencyBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]
    static let jobBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
        .seconds(900), .seconds(3600),
    ]

    public init() {}

    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let labels = [("method", method), ("route", route), ("status", String(status))]
        registry.makeCounter(descriptor: Self.requests, labels: labels).increment()
        registry.makeDurationHistogram(descriptor: Self.requestDuration, labels: labels, buckets: Self.latencyBuckets)
            .record(duration)
    }

    func recordLeased(pool: PoolName, queueWait: TimeInterval) {
        registry.makeDurationHistogram(descriptor: Self.queueWait, labels: [("pool", pool.rawValue)], buckets: Self.jobBuckets)
            .record(.milliseconds(Int64(max(0, queueWait) * 1000)))
    }

    func recordFinished(pool: PoolName, status: JobStatus, runTime: TimeInterval?) {
        registry.makeCounter(descriptor: Self.finished, labels: [("pool", pool.rawValue), ("status", status.rawValue)]).increment()
        if let runTime {
            registry.makeDurationHistogram(descriptor: Self.runTime, labels: [("pool", pool.rawValue)], buckets: Self.jobBuckets)
                .record(.milliseconds(Int64(max(0, runTime) * 1000)))
        }
    }

    func recordRetry(pool: PoolName) {
        registry.makeCounter(descriptor: Self.retries, labels: [("pool", pool.rawValue)]).increment()
    }

    func recordLeaseExpiries(_ count: Int) {
        registry.makeCounter(descriptor: Self.leaseExpiries, labels: []).increment(by: Int64(count))
    }

    /// Sets the job and worker gauges from the store, then renders the exposition text.
    func render(store: any JobStore, workers: WorkerRegistry, now: Date) async throws -> [UInt8] {
        let online = workers.online(now: now)
        for pool in Set([PoolName.image, .video]).union(online.keys) {
            let summary = try await store.queueSummary(pool: pool)
            registry.makeGauge(descriptor: Self.jobs, labels: [("pool", pool.rawValue), ("state", "queued")])
                .set(Double(summary.reduce(0) { $0 + $1.queued }))
            registry.makeGauge(descriptor: Self.jobs, labels: [("pool", pool.rawValue), ("state", "running")])
                .set(Double(summary.reduce(0) { $0 + $1.running }))
            registry.makeGauge(descriptor: Self.workersOnline, labels: [("pool", pool.rawValue)])
                .set(Double(online[pool] ?? 0))
        }
        return registry.emitToBuffer()
    }

    static var requests: MetricNameDescriptor { MetricNameDescriptor(namespace: "atelier", subsystem: "http", metricName: "requests", unitName: "total",
                                               helpText: "HTTP requests by method, route and status.") }
    static var requestDuration: MetricNameDescriptor { MetricNameDescriptor(namespace: "atelier", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                                                      helpText: "HTTP request latency by method, route and status.") }
    static var queueWait: MetricNameDescriptor { MetricNameDescriptor(namespace: "atelier", subsystem: "job", metricName: "queue_wait", unitName: "seconds",
                                                helpText: "Time from a job becoming ready to being leased.") }
    static var runTime: MetricNameDescriptor { MetricNameDescriptor(namespace: "atelier", subsystem: "job", metricName: "run_time", unitName: "seconds",
                                              helpText: "Time from lease to completion of an attempt.") }
    static var finished: MetricNameDescriptor { MetricNameDescriptor(namespace: "atelier", subsystem: "jobs", metricName: "finished", unitName: "total",
                                               helpText: "Jobs that reached a terminal state, by pool and status.") }
    static var retries: MetricNameDescriptor { MetricNameDescriptor(namespace: "atelier", subsystem: "job", metricName: "retries", unitName: "total",
                                              helpText: "Attempts that failed and were scheduled to run again.") }
    static var leaseExpiries: MetricNameDescriptor { MetricNameDescriptor(namespace: "atelier", subsystem: "lease", metricName: "expiries", unitName: "total",
                                                    helpText: "Leases reclaimed because their worker stopped renewing them.") }
    static var jobs: MetricNameDescriptor { MetricNameDescriptor(namespace: "atelier", metricName: "jobs", unitName: "",
                                           helpText: "Jobs waiting or running now, by pool and state.") }
    static var workersOnline: MetricNameDescriptor { MetricNameDescriptor(namespace: "atelier", metricName: "workers_online", unitName: "",
                                                    helpText: "Workers heard from in the last minute, by pool.") }
}
