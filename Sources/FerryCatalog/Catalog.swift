import FerryCore
import Foundation

/// The control plane's store: resources (endpoints, instances, tasks) kept as their API shapes, their
/// secrets sealed, table statistics, events, tags, API credentials and the cluster's leases and claims.
/// It lives in a ``CatalogStore``: the embedded SQLite file by default, or a PostgreSQL database that
/// several servers share. Both get the same versioned migrations; every write is a transaction, so a
/// crash leaves either the old or the new state.
public final class Catalog: Sendable {
    /// Where the tables are.
    public let store: any CatalogStore
    let secrets: SecretBox
    let encoder: JSONEncoder
    let decoder: JSONDecoder

    /// The kinds of resources the catalog stores.
    public enum Kind: String, Sendable {
        case endpoint, instance, task, connection
        case assessmentRun = "assessment-run"
        case eventSubscription = "event-subscription"
        case subnetGroup = "subnet-group"
        case certificate
        case replicationConfig = "replication-config"
    }

    /// The data folder: the secret key, and reports written beside the catalog in subfolders.
    public let directory: URL

    /// Opens (or creates) the embedded catalog, `catalog.db` in `directory`.
    public convenience init(directory: URL) throws {
        try Self.createFolder(directory)
        try self.init(directory: directory, store: SQLiteCatalogStore(path: directory.appendingPathComponent("catalog.db").path))
    }

    /// Opens the catalog in `store`, with the secret key in `directory`; migrates its tables and checks
    /// that the key is the one its secrets were sealed with.
    public init(directory: URL, store: any CatalogStore) throws {
        self.directory = directory
        try Self.createFolder(directory)
        let keyFile = directory.appendingPathComponent("secret.key")
        secrets = try SecretBox(keyFile: keyFile)
        self.store = store
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        self.encoder = encoder
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        self.decoder = decoder
        try CatalogMigrations.migrate(store)
        try checkSecretKey(keyFile)
    }

    /// The catalog `url` names (`postgres://…`), or the embedded one in `directory` when it is nil.
    public static func open(directory: URL, url: String?) throws -> Catalog {
        guard let url else { return try Catalog(directory: directory) }
        let parsed = try ConnectionURL.parse(url, field: "--catalog")
        guard parsed.engine == .postgres else {
            throw FerryError.invalidParameter("--catalog", "a shared catalog is a PostgreSQL database (postgres://user@host:port/database); got \(parsed.engine.rawValue)")
        }
        return try Catalog(directory: directory, store: PostgresCatalogStore(url: parsed))
    }

    private static func createFolder(_ directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// A known text sealed with the key, stored once: a server whose key file differs (a second node
    /// given a fresh key) fails here with what to do, instead of failing later on every secret.
    private func checkSecretKey(_ keyFile: URL) throws {
        let probe = "ferry-secret-key-check"
        let stored = try store.read { try $0.row("SELECT value FROM catalog_facts WHERE name = 'secret-key-check'")?.string("value") }
        if let stored {
            guard let sealed = Data(base64Encoded: stored), (try? secrets.open(sealed)) == probe else {
                throw CatalogError.corrupt("""
                    the secret key \(keyFile.path) is not the one the catalog's secrets (\(store.location)) were sealed with; \
                    every server of a cluster needs the same secret.key: copy it from the first server's data folder
                    """)
            }
            return
        }
        let sealed = try secrets.seal(probe).base64EncodedString()
        try store.write { db in
            try db.execute("INSERT INTO catalog_facts (name, value) VALUES ('secret-key-check', ?) ON CONFLICT (name) DO NOTHING", [sealed])
        }
    }

    // MARK: Resources

    /// Stores a new resource; throws ``CatalogError/alreadyExists`` when the identifier is taken.
    public func insert<T: Encodable>(_ kind: Kind, arn: String, identifier: String, _ body: T) throws {
        let json = String(decoding: try encoder.encode(body), as: UTF8.self)
        try store.write { db in
            if try db.exists("SELECT 1 FROM resources WHERE kind = ? AND identifier = ?", [kind.rawValue, identifier])
                || db.exists("SELECT 1 FROM resources WHERE arn = ?", [arn]) {
                throw CatalogError.alreadyExists("\(kind.rawValue) '\(identifier)' already exists")
            }
            try db.execute("INSERT INTO resources (arn, kind, identifier, created_at, body) VALUES (?, ?, ?, ?, ?)",
                           [arn, kind.rawValue, identifier, Date().timeIntervalSince1970, json])
        }
    }

    /// Replaces a resource's body (and identifier, which may change).
    public func update<T: Encodable>(_ kind: Kind, arn: String, identifier: String, _ body: T) throws {
        let json = String(decoding: try encoder.encode(body), as: UTF8.self)
        try store.write { db in
            if try db.exists("SELECT 1 FROM resources WHERE kind = ? AND identifier = ? AND arn <> ?", [kind.rawValue, identifier, arn]) {
                throw CatalogError.alreadyExists("\(kind.rawValue) '\(identifier)' already exists")
            }
            try db.execute("UPDATE resources SET identifier = ?, body = ? WHERE arn = ?", [identifier, json, arn])
        }
    }

    /// Reads, changes and writes one resource in a single transaction; returns the new body.
    public func modify<T: Codable>(_ kind: Kind, arn: String, as type: T.Type, _ change: (inout T) throws -> Void) throws -> T? {
        try store.write { db in
            guard let json = try db.row("SELECT body FROM resources WHERE arn = ? AND kind = ?\(store.dialect.forUpdate)", [arn, kind.rawValue])?
                .string("body") else {
                return nil
            }
            var body = try decoder.decode(T.self, from: Data(json.utf8))
            try change(&body)
            try db.execute("UPDATE resources SET body = ? WHERE arn = ?", [String(decoding: try encoder.encode(body), as: UTF8.self), arn])
            return body
        }
    }

    public func get<T: Decodable>(_ kind: Kind, arn: String, as type: T.Type) throws -> T? {
        try store.read { db in
            try db.row("SELECT body FROM resources WHERE arn = ? AND kind = ?", [arn, kind.rawValue])?.string("body")
        }.map { try decoder.decode(T.self, from: Data($0.utf8)) }
    }

    /// Every resource of a kind, oldest first.
    public func list<T: Decodable>(_ kind: Kind, as type: T.Type) throws -> [T] {
        try store.read { db in
            try db.strings("SELECT body FROM resources WHERE kind = ? ORDER BY created_at, arn", [kind.rawValue])
        }.map { try decoder.decode(T.self, from: Data($0.utf8)) }
    }

    /// How many resources of a kind the catalog holds.
    public func count(_ kind: Kind) throws -> Int {
        try store.read { db in try db.row("SELECT count(*) AS n FROM resources WHERE kind = ?", [kind.rawValue])?.int("n") } ?? 0
    }

    /// Deletes a resource with its secrets, documents, tags and statistics.
    public func delete(arn: String) throws {
        try store.write { db in
            for table in ["resources", "secrets", "tags", "documents"] {
                try db.execute("DELETE FROM \(table) WHERE arn = ?", [arn])
            }
            for table in ["table_statistics", "task_claims", "task_requests"] {
                try db.execute("DELETE FROM \(table) WHERE task_arn = ?", [arn])
            }
        }
    }

    // MARK: Documents

    /// Stores a named document kept beside a resource's body, which its API shape has no field for (a
    /// task's settings as the user wrote them).
    public func setDocument(_ text: String, name: String, for arn: String) throws {
        try store.write { db in
            try db.execute("INSERT INTO documents (arn, name, body) VALUES (?, ?, ?) ON CONFLICT (arn, name) DO UPDATE SET body = excluded.body",
                           [arn, name, text])
        }
    }

    public func document(_ name: String, for arn: String) throws -> String? {
        try store.read { db in
            try db.row("SELECT body FROM documents WHERE arn = ? AND name = ?", [arn, name])?.string("body")
        }
    }

    // MARK: Secrets

    /// Stores a secret sealed; nil removes it.
    public func setSecret(_ value: String?, name: String, for arn: String) throws {
        let sealed = try value.map(secrets.seal)
        try store.write { db in
            if let sealed {
                try db.execute("INSERT INTO secrets (arn, name, sealed) VALUES (?, ?, ?) ON CONFLICT (arn, name) DO UPDATE SET sealed = excluded.sealed",
                               [arn, name, sealed])
            } else {
                try db.execute("DELETE FROM secrets WHERE arn = ? AND name = ?", [arn, name])
            }
        }
    }

    public func secret(_ name: String, for arn: String) throws -> String? {
        try store.read { db in
            try db.row("SELECT sealed FROM secrets WHERE arn = ? AND name = ?", [arn, name])?.data("sealed")
        }.map(secrets.open)
    }
}
