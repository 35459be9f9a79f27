// swift-tools-version: 6.1
import Foundation
import PackageDescription

// A path dependency is named after its directory, which is whatever the clone is called.
let guarantor = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent

// Benchmarks live in their own package so that users and CI never build the benchmark dependency.
let package = Package(
    name: "GuarantorBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // `swift package benchmark`: regression benchmarks with committed thresholds.
        .executableTarget(
            name: "ClassificationBenchmark",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "GuarantorCore", package: guarantor),
            ],
            path: "Benchmarks/ClassificationBenchmark",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Points per second on a points file, printed for scripts/bench_geometry.sh to set beside shapely and PostGIS.
        .executableTarget(
            name: "GeometryThroughput",
            dependencies: [.product(name: "GuarantorCore", package: guarantor)]
        ),
    ]
)
