// swift-tools-version: 6.2
import PackageDescription

/// Settings shared by every target: Swift 6 mode with the upcoming features Hummingbird uses.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Atelier",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "atelier", targets: ["atelier"]),
        .library(name: "AtelierCore", targets: ["AtelierCore"]),
        .library(name: "AtelierStore", targets: ["AtelierStore"]),
        .library(name: "AtelierWorker", targets: ["AtelierWorker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Domain: creators, jobs, artifacts, costs, identifiers, clocks. No I/O.
        .target(name: "AtelierCore", swiftSettings: strictSettings),
        // Pure scheduling policy: weighted fair queueing across creators, retries, leases.
        .target(name: "AtelierScheduler", dependencies: ["AtelierCore"], swiftSettings: strictSettings),
        // The chain of title: RFC 6962 Merkle log math, proofs, signed notes and checkpoints. No I/O.
        .target(
            name: "AtelierLedger",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        // The JobStore boundary and its two engines: SQLite (embedded) and PostgreSQL.
        .target(
            name: "AtelierStore",
            dependencies: [
                "AtelierCore", "AtelierScheduler", "AtelierLedger",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The BlobStore boundary and its two engines: files and S3-compatible object stores (SigV4).
        .target(
            name: "AtelierBlobs",
            dependencies: [
                "AtelierCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // zlib, for PNG's deflate stream and CRCs.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // The built-in procedural renderer and its encoders.
        .target(name: "AtelierMedia", dependencies: ["AtelierCore", "CZlib"], swiftSettings: strictSettings),
        // Prompt planning: the built-in planner, language-model providers, validation, cache, content policy.
        .target(
            name: "AtelierPlanning",
            dependencies: [
                "AtelierCore", "AtelierMedia",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // Backends, the worker loop and the in-process worker pool.
        .target(
            name: "AtelierWorker",
            dependencies: [
                "AtelierCore", "AtelierScheduler", "AtelierStore", "AtelierBlobs", "AtelierMedia", "AtelierPlanning",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // The JSON shapes of the HTTP API, shared by the server and its clients.
        .target(name: "AtelierWire", dependencies: ["AtelierCore"], swiftSettings: strictSettings),
        // The HTTP API server: routes, authentication, problem details, events, metrics.
        .target(
            name: "AtelierAPI",
            dependencies: [
                "AtelierCore", "AtelierScheduler", "AtelierStore", "AtelierBlobs", "AtelierWorker", "AtelierWire",
                "AtelierLedger", "AtelierPlanning",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            resources: [.copy("Resources/openapi.yaml"), .copy("Resources/studio")],
            swiftSettings: strictSettings
        ),
        // The HTTP client of the API: used by the CLI and by remote workers.
        .target(
            name: "AtelierClient",
            dependencies: [
                "AtelierCore", "AtelierBlobs", "AtelierScheduler", "AtelierStore", "AtelierWorker", "AtelierWire", "AtelierLedger",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Release-build benchmarks, run by `atelier bench`.
        .target(
            name: "AtelierBenchmarks",
            dependencies: ["AtelierCore", "AtelierScheduler", "AtelierStore", "AtelierMedia", "AtelierWorker", "AtelierBlobs", "AtelierLedger",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "atelier",
            dependencies: [
                "AtelierCore", "AtelierScheduler", "AtelierStore", "AtelierBlobs", "AtelierMedia", "AtelierWorker",
                "AtelierBenchmarks", "AtelierAPI", "AtelierClient", "AtelierWire", "AtelierLedger",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        .testTarget(name: "AtelierCoreTests", dependencies: ["AtelierCore"], swiftSettings: strictSettings),
        .testTarget(
            name: "AtelierLedgerTests",
            dependencies: ["AtelierLedger", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "AtelierSchedulerTests", dependencies: ["AtelierCore", "AtelierScheduler"], swiftSettings: strictSettings),
        // Test helpers shared by test targets: a throw-away PostgreSQL server.
        .target(
            name: "AtelierTestSupport",
            dependencies: [
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/AtelierTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StoreContractTests",
            dependencies: [
                "AtelierCore", "AtelierScheduler", "AtelierStore", "AtelierTestSupport", "AtelierLedger",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "AtelierStoreTests", dependencies: ["AtelierCore", "AtelierStore"], swiftSettings: strictSettings),
        .testTarget(
            name: "AtelierBlobsTests",
            dependencies: [
                "AtelierCore", "AtelierBlobs", "AtelierTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AtelierPlanningTests",
            dependencies: [
                "AtelierCore", "AtelierPlanning",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "AtelierMediaTests", dependencies: ["AtelierCore", "AtelierMedia"], swiftSettings: strictSettings),
        .testTarget(
            name: "AtelierWorkerTests",
            dependencies: ["AtelierCore", "AtelierScheduler", "AtelierStore", "AtelierBlobs", "AtelierMedia", "AtelierWorker"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AtelierAPITests",
            dependencies: [
                "AtelierCore", "AtelierStore", "AtelierBlobs", "AtelierWorker", "AtelierAPI", "AtelierClient", "AtelierWire",
                "AtelierTestSupport", "AtelierLedger", "AtelierPlanning",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
