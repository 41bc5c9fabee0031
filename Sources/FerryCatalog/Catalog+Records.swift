import Crypto
import Foundation

/// One DMS event.
public struct EventRecord: Codable, Sendable, Equatable {
    public var sourceIdentifier: String
    public var sourceType: String
    public var message: String
    public var categories: [String]
    public var date: Date

    public init(sourceIdentifier: String, sourceType: String, message: String, categories: [String], date: Date = Date()) {
        self.sourceIdentifier = sourceIdentifier
        self.sourceType = sourceType
        self.message = message
        self.categories = categories
        self.date = date
    }
}

extension Catalog {
    // MARK: Events

    public func addEvent(_ event: EventRecord) throws {
        let categories = String(decoding: try encoder.encode(event.categories), as: UTF8.self)
        try store.write { db in
            try db.execute("INSERT INTO events (source_identifier, source_type, message, categories, date) VALUES (?, ?, ?, ?, ?)",
                           [event.sourceIdentifier, event.sourceType, event.message, categories, event.date.timeIntervalSince1970])
        }
    }

    /// Events between two dates (inclusive), oldest first.
    public func events(from start: Date, to end: Date) throws -> [EventRecord] {
        try store.read { db in
            try db.rows("SELECT * FROM events WHERE date >= ? AND date <= ? ORDER BY id", [start.timeIntervalSince1970, end.timeIntervalSince1970])
        }.map { row in
            EventRecord(sourceIdentifier: try row.string("source_identifier"), sourceType: try row.string("source_type"),
                        message: try row.string("message"),
                        categories: try decoder.decode([String].self, from: Data(try row.string("categories").utf8)),
                        date: try row.date("date"))
        }
    }

    // MARK: Tags

    public func tags(of arn: String) throws -> [(key: String, value: String)] {
        try store.read { db in
            try db.rows("SELECT key, value FROM tags WHERE arn = ? ORDER BY key", [arn]).map { (try $0.string("key"), try $0.string("value")) }
        }
    }

    public func addTags(_ tags: [(key: String, value: String)], to arn: String) throws {
        try store.write { db in
            for tag in tags {
                try db.execute("INSERT INTO tags (arn, key, value) VALUES (?, ?, ?) ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
                               [arn, tag.key, tag.value])
            }
        }
    }

    public func removeTags(_ keys: [String], from arn: String) throws {
        try store.write { db in
            for key in keys { try db.execute("DELETE FROM tags WHERE arn = ? AND key = ?", [arn, key]) }
        }
    }

    // MARK: Table statistics

    /// Replaces a task's table statistics with `rows` (each keyed by schema and table).
    public func saveTableStatistics<T: Encodable>(_ rows: [(schema: String, table: String, body: T)], taskArn: String, replacing: Bool = false) throws {
        let encoded = try rows.map { ($0.schema, $0.table, String(decoding: try encoder.encode($0.body), as: UTF8.self)) }
        try store.write { db in
            if replacing { try db.execute("DELETE FROM table_statistics WHERE task_arn = ?", [taskArn]) }
            for (schema, table, body) in encoded {
                try db.execute("""
                    INSERT INTO table_statistics (task_arn, schema_name, table_name, body) VALUES (?, ?, ?, ?)
                    ON CONFLICT (task_arn, schema_name, table_name) DO UPDATE SET body = excluded.body
                    """, [taskArn, schema, table, body])
            }
        }
    }

    public func tableStatistics<T: Decodable>(taskArn: String, as type: T.Type) throws -> [T] {
        try store.read { db in
            try db.strings("SELECT body FROM table_statistics WHERE task_arn = ? ORDER BY schema_name, table_name", [taskArn])
        }.map { try decoder.decode(T.self, from: Data($0.utf8)) }
    }

    // MARK: Credentials

    /// Stores an access key pair; the secret is sealed.
    public func addCredential(accessKeyID: String, secretAccessKey: String) throws {
        let sealed = try secrets.seal(secretAccessKey)
        try store.write { db in
            try db.execute("""
                INSERT INTO credentials (access_key_id, sealed_secret, created_at) VALUES (?, ?, ?)
                ON CONFLICT (access_key_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, created_at = excluded.created_at
                """, [accessKeyID, sealed, Date().timeIntervalSince1970])
        }
    }

    /// The secret for an access key id, or nil when the key is unknown.
    public func secretAccessKey(for accessKeyID: String) throws -> String? {
        try store.read { db in
            try db.row("SELECT sealed_secret FROM credentials WHERE access_key_id = ?", [accessKeyID])?.data("sealed_secret")
        }.map(secrets.open)
    }

    /// Whether the access key exists, without opening its secret.
    public func hasCredential(_ accessKeyID: String) throws -> Bool {
        try store.read { db in
            try db.exists("SELECT 1 FROM credentials WHERE access_key_id = ?", [accessKeyID])
        }
    }

    public func credentialIDs() throws -> [(id: String, created: Date)] {
        try store.read { db in
            try db.rows("SELECT access_key_id, created_at FROM credentials ORDER BY created_at", []).map {
                (try $0.string("access_key_id"), try $0.date("created_at"))
            }
        }
    }

    @discardableResult
    public func deleteCredential(_ accessKeyID: String) throws -> Bool {
        try store.write { db in
            try db.execute("DELETE FROM credentials WHERE access_key_id = ?", [accessKeyID]) > 0
        }
    }

    /// A fresh access key pair in AWS's format (20-character `AKIA…` id, 40-character secret).
    public static func generateKeyPair() -> (accessKeyID: String, secretAccessKey: String) {
        let idAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let secretAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        func random(_ count: Int, _ alphabet: [Character]) -> String {
            let bytes = SymmetricKey(size: .init(bitCount: count * 8)).withUnsafeBytes { Array($0) }
            return String(bytes.map { alphabet[Int($0) % alphabet.count] })
        }
        return ("AKIA" + random(16, idAlphabet), random(40, secretAlphabet))
    }
}
