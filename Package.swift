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
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CMariaDB", pkgConfig: "libmariadb", providers: [.apt(["libmariadb-dev"])]),
        .target(name: "FerryCore", dependencies: [.product(name: "Logging", package: "swift-log")]),
        .target(name: "FerryPostgres", dependencies: ["FerryCore", "CLibPQ"]),
        .target(name: "FerryMySQL", dependencies: ["FerryCore", "CMariaDB"]),
        .target(name: "FerrySQLite", dependencies: ["FerryCore", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "FerryEngine", dependencies: ["FerryCore"]),
        .target(name: "FerryConnectors", dependencies: ["FerryCore", "FerryPostgres", "FerryMySQL", "FerrySQLite"]),
        .executableTarget(name: "ferry", dependencies: [
            "FerryCore", "FerryEngine", "FerryConnectors",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "FerryCoreTests", dependencies: ["FerryCore"]),
        .testTarget(name: "FerryPostgresTests", dependencies: ["FerryPostgres", "FerryCore"]),
        .testTarget(name: "FerryMySQLTests", dependencies: ["FerryMySQL", "FerryCore"]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "FerryCore", "FerryEngine", "FerryConnectors", "FerryPostgres", "FerryMySQL", "FerrySQLite",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
