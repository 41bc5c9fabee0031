import FerryCatalog
import FerryCore
import FerryPostgres
import Foundation
import Testing

/// Which store a catalog test runs against; every test in CatalogContractTests runs on both.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A catalog in a fresh store (a temporary SQLite file, or a new database on the test PostgreSQL server),
/// with its data folder; `remove()` deletes both.
struct CatalogFixture {
    let kind: StoreKind
    let directory: URL
    let catalog: Catalog
    /// The PostgreSQL database's URL, for a second server opening the same catalog.
    let url: ConnectionURL?

    init(_ kind: StoreKind) throws {
        self.kind = kind
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-catalog-\(UUID().uuidString)")
        switch kind {
        case .sqlite:
            url = nil
            catalog = try Catalog(directory: directory)
        case .postgres:
            guard let text = ProcessInfo.processInfo.environment["FERRY_TEST_POSTGRES_URL"] else {
                throw FerryError(.invalidParameter, "FERRY_TEST_POSTGRES_URL is not set: run the tests with scripts/test.sh, which starts the databases")
            }
            var url = try ConnectionURL.parse(text)
            let name = "ferry_catalog_\(UUID().uuidString.prefix(8).lowercased())"
            try PGConnection(url).execute("CREATE DATABASE \(name)")
            url.database = name
            self.url = url
            catalog = try Catalog(directory: directory, store: PostgresCatalogStore(url: url))
        }
    }

    /// A second server's catalog on the same PostgreSQL database, in a fresh data folder of its own that holds
    /// a copy of the first server's secret key, or a key of its own.
    func secondServer(copyingKey: Bool = true) throws -> Catalog {
        guard let url else { throw FerryError(.invalidParameter, "only a PostgreSQL catalog is shared") }
        let other = directory.appendingPathExtension("second")
        try? FileManager.default.removeItem(at: other)
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        if copyingKey {
            try FileManager.default.copyItem(at: directory.appendingPathComponent("secret.key"), to: other.appendingPathComponent("secret.key"))
        }
        return try Catalog(directory: other, store: PostgresCatalogStore(url: url))
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
        try? FileManager.default.removeItem(at: directory.appendingPathExtension("second"))
        if var url, let name = url.database {
            url.database = "postgres"
            _ = try? PGConnection(url).execute("DROP DATABASE \(name) WITH (FORCE)")
        }
    }
}
