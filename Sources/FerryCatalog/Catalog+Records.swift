import Crypto
import Foundation
import GRDB

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
        try database.write { db in
            try db.execute(sql: "INSERT INTO events (source_identifier, source_type, message, categories, date) VALUES (?, ?, ?, ?, ?)",
                           arguments: [event.sourceIdentifier, event.sourceType, event.message, categories, event.date.timeIntervalSince1970])
        }
    }

    /// Events between two dates (inclusive), oldest first.
    public func events(from start: Date, to end: Date) throws -> [EventRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM events WHERE date >= ? AND date <= ? ORDER BY id",
                             arguments: [start.timeIntervalSince1970, end.timeIntervalSince1970])
        }.map { row in
            EventRecord(sourceIdentifier: row["source_identifier"], sourceType: row["source_type"], message: row["message"],
                        categories: try decoder.decode([String].self, from: Data((row["categories"] as String).utf8)),
                        date: Date(timeIntervalSince1970: row["date"]))
        }
    }

    // MARK: Tags

    public func tags(of arn: String) throws -> [(key: String, value: String)] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT key, value FROM tags WHERE arn = ? ORDER BY key", arguments: [arn]).map { ($0["key"], $0["value"]) }
        }
    }

    public func addTags(_ tags: [(key: String, value: String)], to arn: String) throws {
        try database.write { db in
            for tag in tags {
                try db.execute(sql: "INSERT OR REPLACE INTO tags (arn, key, value) VALUES (?, ?, ?)", arguments: [arn, tag.key, tag.value])
            }
        }
    }

    public func removeTags(_ keys: [String], from arn: String) throws {
        try database.write { db in
            for key in keys { try db.execute(sql: "DELETE FROM tags WHERE arn = ? AND key = ?", arguments: [arn, key]) }
        }
    }

    // MARK: Table statistics

    /// Replaces a task's table statistics with `rows` (each keyed by schema and table).
    public func saveTableStatistics<T: Encodable>(_ rows: [(schema: String, table: String, body: T)], taskArn: String, replacing: Bool = false) throws {
        let encoded = try rows.map { ($0.schema, $0.table, String(decoding: try encoder.encode($0.body), as: UTF8.self)) }
        try database.write { db in
            if replacing { try db.execute(sql: "DELETE FROM table_statistics WHERE task_arn = ?", arguments: [taskArn]) }
            for (schema, table, body) in encoded {
                try db.execute(sql: "INSERT OR REPLACE INTO table_statistics (task_arn, schema_name, table_name, body) VALUES (?, ?, ?, ?)",
                               arguments: [taskArn, schema, table, body])
            }
        }
    }

    public func tableStatistics<T: Decodable>(taskArn: String, as type: T.Type) throws -> [T] {
        try database.read { db in
            try String.fetchAll(db, sql: "SELECT body FROM table_statistics WHERE task_arn = ? ORDER BY schema_name, table_name", arguments: [taskArn])
        }.map { try decoder.decode(T.self, from: Data($0.utf8)) }
    }

    // MARK: Credentials

    /// Stores an access key pair; the secret is sealed.
    public func addCredential(accessKeyID: String, secretAccessKey: String) throws {
        let sealed = try secrets.seal(secretAccessKey)
        try database.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO credentials (access_key_id, sealed_secret, created_at) VALUES (?, ?, ?)",
                           arguments: [accessKeyID, sealed, Date().timeIntervalSince1970])
        }
    }

    /// The secret for an access key id, or nil when the key is unknown.
    public func secretAccessKey(for accessKeyID: String) throws -> String? {
        try database.read { db in
            try Data.fetchOne(db, sql: "SELECT sealed_secret FROM credentials WHERE access_key_id = ?", arguments: [accessKeyID])
        }.map(secrets.open)
    }

    /// Whether the access key exists, without opening its secret.
    public func hasCredential(_ accessKeyID: String) throws -> Bool {
        try database.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM credentials WHERE access_key_id = ?", arguments: [accessKeyID]) ?? false
        }
    }

    public func credentialIDs() throws -> [(id: String, created: Date)] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT access_key_id, created_at FROM credentials ORDER BY created_at").map {
                ($0["access_key_id"], Date(timeIntervalSince1970: $0["created_at"]))
            }
        }
    }

    @discardableResult
    public func deleteCredential(_ accessKeyID: String) throws -> Bool {
        try database.write { db in
            try db.execute(sql: "DELETE FROM credentials WHERE access_key_id = ?", arguments: [accessKeyID])
            return db.changesCount > 0
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
