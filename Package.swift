// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Ferry",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ferry", targets: ["ferry"]),
        .library(name: "FerryCore", targets: ["FerryCore"]),
        .library(name: "FerryEngine", targets: ["FerryEngine"]),
        .library(name: "FerryConnectors", targets: ["FerryConnectors"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CMariaDB", pkgConfig: "libmariadb", providers: [.apt(["libmariadb-dev"])]),
        .target(name: "FerryCore", dependencies: [
            .product(name: "Logging", package: "swift-log"), .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "FerryPostgres", dependencies: ["FerryCore", "CLibPQ"]),
        .target(name: "FerryMySQL", dependencies: ["FerryCore", "CMariaDB"]),
        .target(name: "FerrySQLite", dependencies: [
            "FerryCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "FerryEngine", dependencies: ["FerryCore"]),
        .target(name: "FerryConnectors", dependencies: ["FerryCore", "FerryPostgres", "FerryMySQL", "FerrySQLite"]),
        .target(name: "FerryTelemetry", dependencies: [
            "FerryCore", "FerryEngine", "FerryCatalog",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .target(name: "FerryCatalog", dependencies: [
            "FerryCore", "FerryPostgres",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "FerryCluster", dependencies: ["FerryCatalog", "FerryCore", "FerryEngine"]),
        .target(name: "FerryAPI", dependencies: [
            "FerryCore", "FerryEngine", "FerryCatalog", "FerryCluster", "FerryConnectors", "FerryTelemetry",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ], resources: [.copy("Console/Resources")]),
        .executableTarget(name: "ferry", dependencies: [
            "FerryCore", "FerryEngine", "FerryConnectors", "FerryCatalog", "FerryAPI", "FerryTelemetry",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "FerryCoreTests", dependencies: [
            "FerryCore", .product(name: "Crypto", package: "swift-crypto"), .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "FerryPostgresTests", dependencies: ["FerryPostgres", "FerryCore"], resources: [.copy("Golden")]),
        .testTarget(name: "FerryMySQLTests", dependencies: ["FerryMySQL", "FerryCore"], resources: [.copy("Golden")]),
        .testTarget(name: "FerryCatalogTests", dependencies: ["FerryCatalog", "FerryCluster", "FerryCore", "FerryPostgres"]),
        .testTarget(name: "FerryEngineTests", dependencies: ["FerryEngine", "FerryCore"]),
        .testTarget(name: "FerryTelemetryTests", dependencies: ["FerryTelemetry", "FerryEngine", "FerryCore"]),
        .testTarget(name: "FerryAPITests", dependencies: [
            "FerryAPI", "FerryCatalog", "FerryCore",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "FerryCore", "FerryEngine", "FerryConnectors", "FerryPostgres", "FerryMySQL", "FerrySQLite", "FerryCatalog", "FerryCluster",
            .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
        ], resources: [.copy("Corpus")]),
    ],
    swiftLanguageModes: [.v6]
)
