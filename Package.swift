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
    ],
    targets: [
        // The engine: geometry, agreement, observations, classification. No database, network or file I/O.
        .target(
            name: "GuarantorCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // The embedded store: the append-only, hash-chained event log in SQLite (GRDB, WAL).
        .target(
            name: "GuarantorStore",
            dependencies: ["GuarantorCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The commands of the `guarantor` tool, as a library so tests can drive them in-process.
        .target(
            name: "GuarantorCLI",
            dependencies: [
                "GuarantorCore", "GuarantorStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("Demo"), .copy("Defaults")]
        ),
        .executableTarget(name: "guarantor", dependencies: ["GuarantorCLI"]),
        // Fixtures, generators and the real-data locator; used only by tests.
        .target(name: "GuarantorTesting", dependencies: ["GuarantorCore"]),
        .testTarget(
            name: "GuarantorCoreTests", dependencies: ["GuarantorCore", "GuarantorTesting"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "GuarantorStoreTests",
            dependencies: ["GuarantorStore", "GuarantorTesting", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "GuarantorCLITests", dependencies: ["GuarantorCLI", "GuarantorTesting"]),
    ]
)
