import FerryCore
import Foundation
import GRDB

/// The control plane's store: resources (endpoints, instances, tasks) kept as their API shapes, their
/// secrets sealed, table statistics, events, tags and API credentials. One SQLite file in the data
/// directory, with versioned migrations; every write is a transaction, so a crash leaves either the
/// old or the new state.
public final class Catalog: Sendable {
    let database: DatabaseQueue
    let secrets: SecretBox
    let encoder: JSONEncoder
    let decoder: JSONDecoder

    /// The kinds of resources the catalog stores.
    public enum Kind: String, Sendable {
        case endpoint, instance, task, connection
        case assessmentRun = "assessment-run"
        case eventSubscription = "event-subscription"
        case subnetGroup = "subnet-group"
    }

    /// The data folder the catalog lives in; reports written beside it go in subfolders.
    public let directory: URL

    /// Opens (or creates) the catalog in `directory`.
    public init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        secrets = try SecretBox(keyFile: directory.appendingPathComponent("secret.key"))
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        database = try DatabaseQueue(path: directory.appendingPathComponent("catalog.db").path, configuration: configuration)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        self.encoder = encoder
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        self.decoder = decoder
        try Self.migrator.migrate(database)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE resources (
                  arn TEXT PRIMARY KEY, kind TEXT NOT NULL, identifier TEXT NOT NULL,
                  created_at REAL NOT NULL, body TEXT NOT NULL, UNIQUE (kind, identifier));
                CREATE TABLE secrets (arn TEXT NOT NULL, name TEXT NOT NULL, sealed BLOB NOT NULL, PRIMARY KEY (arn, name));
                CREATE TABLE credentials (access_key_id TEXT PRIMARY KEY, sealed_secret BLOB NOT NULL, created_at REAL NOT NULL);
                CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, source_identifier TEXT NOT NULL,
                  source_type TEXT NOT NULL, message TEXT NOT NULL, categories TEXT NOT NULL, date REAL NOT NULL);
                CREATE INDEX events_date ON events (date);
                CREATE TABLE tags (arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (arn, key));
                CREATE TABLE table_statistics (task_arn TEXT NOT NULL, schema_name TEXT NOT NULL, table_name TEXT NOT NULL,
                  body TEXT NOT NULL, PRIMARY KEY (task_arn, schema_name, table_name));
                """)
        }
        migrator.registerMigration("v2") { db in
            try db.execute(sql: "CREATE TABLE documents (arn TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (arn, name))")
        }
        migrator.registerMigration("v3") { db in
            try db.execute(sql: """
                CREATE TABLE metric_points (seconds INTEGER NOT NULL, namespace TEXT NOT NULL, metric TEXT NOT NULL, dimensions TEXT NOT NULL,
                  unit TEXT NOT NULL, start REAL NOT NULL, sample_count REAL NOT NULL, sum REAL NOT NULL, minimum REAL NOT NULL, maximum REAL NOT NULL,
                  PRIMARY KEY (seconds, namespace, metric, dimensions, start));
                CREATE INDEX metric_points_start ON metric_points (start);
                """)
        }
        migrator.registerMigration("v4") { db in
            try db.execute(sql: """
                CREATE TABLE webhook_deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, subscription TEXT NOT NULL, webhook TEXT NOT NULL,
                  message_id TEXT NOT NULL, event_message TEXT NOT NULL, attempt INTEGER NOT NULL, response_code INTEGER,
                  error TEXT, delivered INTEGER NOT NULL, at REAL NOT NULL);
                CREATE INDEX webhook_deliveries_at ON webhook_deliveries (at);
                """)
        }
        return migrator
    }

    // MARK: Resources

    /// Stores a new resource; throws ``CatalogError/alreadyExists`` when the identifier is taken.
    public func insert<T: Encodable>(_ kind: Kind, arn: String, identifier: String, _ body: T) throws {
        let json = String(decoding: try encoder.encode(body), as: UTF8.self)
        try database.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM resources WHERE kind = ? AND identifier = ?", arguments: [kind.rawValue, identifier]) == true
                || Bool.fetchOne(db, sql: "SELECT 1 FROM resources WHERE arn = ?", arguments: [arn]) == true {
                throw CatalogError.alreadyExists("\(kind.rawValue) '\(identifier)' already exists")
            }
            try db.execute(sql: "INSERT INTO resources (arn, kind, identifier, created_at, body) VALUES (?, ?, ?, ?, ?)",
                           arguments: [arn, kind.rawValue, identifier, Date().timeIntervalSince1970, json])
        }
    }

    /// Replaces a resource's body (and identifier, which may change).
    public func update<T: Encodable>(_ kind: Kind, arn: String, identifier: String, _ body: T) throws {
        let json = String(decoding: try encoder.encode(body), as: UTF8.self)
        try database.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM resources WHERE kind = ? AND identifier = ? AND arn <> ?",
                                 arguments: [kind.rawValue, identifier, arn]) == true {
                throw CatalogError.alreadyExists("\(kind.rawValue) '\(identifier)' already exists")
            }
            try db.execute(sql: "UPDATE resources SET identifier = ?, body = ? WHERE arn = ?", arguments: [identifier, json, arn])
        }
    }

    /// Reads, changes and writes one resource in a single transaction; returns the new body.
    public func modify<T: Codable>(_ kind: Kind, arn: String, as type: T.Type, _ change: (inout T) throws -> Void) throws -> T? {
        try database.write { db in
            guard let json = try String.fetchOne(db, sql: "SELECT body FROM resources WHERE arn = ? AND kind = ?", arguments: [arn, kind.rawValue]) else {
                return nil
            }
            var body = try decoder.decode(T.self, from: Data(json.utf8))
            try change(&body)
            try db.execute(sql: "UPDATE resources SET body = ? WHERE arn = ?",
                           arguments: [String(decoding: try encoder.encode(body), as: UTF8.self), arn])
            return body
        }
    }

    public func get<T: Decodable>(_ kind: Kind, arn: String, as type: T.Type) throws -> T? {
        try database.read { db in
            try String.fetchOne(db, sql: "SELECT body FROM resources WHERE arn = ? AND kind = ?", arguments: [arn, kind.rawValue])
        }.map { try decoder.decode(T.self, from: Data($0.utf8)) }
    }

    /// Every resource of a kind, oldest first.
    public func list<T: Decodable>(_ kind: Kind, as type: T.Type) throws -> [T] {
        try database.read { db in
            try String.fetchAll(db, sql: "SELECT body FROM resources WHERE kind = ? ORDER BY created_at, arn", arguments: [kind.rawValue])
        }.map { try decoder.decode(T.self, from: Data($0.utf8)) }
    }

    /// Deletes a resource with its secrets, documents, tags and statistics.
    public func delete(arn: String) throws {
        try database.write { db in
            for table in ["resources", "secrets", "tags", "documents"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE arn = ?", arguments: [arn])
            }
            try db.execute(sql: "DELETE FROM table_statistics WHERE task_arn = ?", arguments: [arn])
        }
    }

    // MARK: Documents

    /// Stores a named document kept beside a resource's body, which its API shape has no field for (a
    /// task's settings as the user wrote them).
    public func setDocument(_ text: String, name: String, for arn: String) throws {
        try database.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO documents (arn, name, body) VALUES (?, ?, ?)", arguments: [arn, name, text])
        }
    }

    public func document(_ name: String, for arn: String) throws -> String? {
        try database.read { db in
            try String.fetchOne(db, sql: "SELECT body FROM documents WHERE arn = ? AND name = ?", arguments: [arn, name])
        }
    }

    // MARK: Secrets

    /// Stores a secret sealed; nil removes it.
    public func setSecret(_ value: String?, name: String, for arn: String) throws {
        let sealed = try value.map(secrets.seal)
        try database.write { db in
            if let sealed {
                try db.execute(sql: "INSERT OR REPLACE INTO secrets (arn, name, sealed) VALUES (?, ?, ?)", arguments: [arn, name, sealed])
            } else {
                try db.execute(sql: "DELETE FROM secrets WHERE arn = ? AND name = ?", arguments: [arn, name])
            }
        }
    }

    public func secret(_ name: String, for arn: String) throws -> String? {
        try database.read { db in
            try Data.fetchOne(db, sql: "SELECT sealed FROM secrets WHERE arn = ? AND name = ?", arguments: [arn, name])
        }.map(secrets.open)
    }
}
