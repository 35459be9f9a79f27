// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Guarantor",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "guarantor", targets: ["guarantor"]),
        .library(name: "GuarantorCore", targets: ["GuarantorCore"]),
        .library(name: "GuarantorStore", targets: ["GuarantorStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // The engine: geometry, agreement, observations, classification. No database, network or file I/O.
        .target(
            name: "GuarantorCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // PostgreSQL's own client library, for the shared store (Debian's libpq-dev).
        .systemLibrary(name: "CLibPQ", providers: [.apt(["libpq-dev"])]),
        // The store: the append-only, hash-chained event log in SQLite (GRDB, WAL) or PostgreSQL (libpq).
        .target(
            name: "GuarantorStore",
            dependencies: [
                "GuarantorCore", "CLibPQ", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The HTTP API (Hummingbird 2): the same engines behind roles, releasability filters and a live stream.
        .target(
            name: "GuarantorServer",
            dependencies: [
                "GuarantorCore", "GuarantorStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The dashboard's page, compiled into the binary: nothing to install beside it, nothing from a CDN.
            resources: [
                .embedInCode("Dashboard/index.html"), .embedInCode("Dashboard/dashboard.js"),
                .embedInCode("Dashboard/dashboard.css"),
            ]
        ),
        // The commands of the `guarantor` tool, as a library so tests can drive them in-process.
        .target(
            name: "GuarantorCLI",
            dependencies: [
                "GuarantorCore", "GuarantorStore", "GuarantorServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Demo"), .copy("Defaults")]
        ),
        .executableTarget(
            name: "guarantor",
            dependencies: ["GuarantorCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Fixtures, generators and the real-data locator; used only by tests.
        .target(name: "GuarantorTesting", dependencies: ["GuarantorCore"]),
        .testTarget(
            name: "GuarantorCoreTests",
            dependencies: [
                "GuarantorCore", "GuarantorStore", "GuarantorTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "GuarantorStoreTests",
            dependencies: ["GuarantorStore", "GuarantorTesting", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "GuarantorCLITests",
            dependencies: ["GuarantorCLI", "GuarantorTesting", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "GuarantorServerTests",
            dependencies: [
                "GuarantorServer", "GuarantorCLI", "GuarantorTesting", "GuarantorStore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ]
)
