import FerryCore
import GRDB

/// Reads table structure from `sqlite_master` and the table PRAGMAs. SQLite's own tables and the change
/// tables of Ferry's trigger capture (`ferry_changes_…`) and the write fence's bypass table are not the
/// user's and are never listed.
enum SQLiteSchemaDiscovery {
    static let schema = "main"

    static func discover(_ db: Database, _ mappings: TableMappings) throws -> [TableSchema] {
        let names = try String.fetchAll(db, sql: """
            SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
              AND name NOT LIKE 'ferry\\_changes\\_%' ESCAPE '\\' AND name != ? ORDER BY name
            """, arguments: [SQLiteWriteFence.bypassTable])
        var tables: [TableSchema] = []
        for name in names {
            let id = TableID(schema: schema, name: name)
            guard mappings.selects(id) else { continue }
            var columns: [FerryCore.Column] = []
            var keyColumns: [(Int, String)] = []
            for row in try Row.fetchAll(db, sql: "PRAGMA table_xinfo(\(SQLiteNames.quote(name)))") {
                let hidden: Int = row["hidden"]
                guard hidden == 0 else { continue }
                let columnName: String = row["name"]
                let declared: String = row["type"] ?? ""
                let pk: Int = row["pk"]
                if pk > 0 { keyColumns.append((pk, columnName)) }
                let notNull: Int = row["notnull"]
                let written: String? = row["dflt_value"]
                let literal = literalDefault(written)
                columns.append(FerryCore.Column(name: columnName, type: SQLiteTypes.neutral(declared: declared), nativeType: declared,
                                                nullable: notNull == 0 && pk == 0, defaultValue: literal,
                                                generated: literal == nil ? written.flatMap(GeneratedDefault.recognise) : nil))
            }
            var table = TableSchema(id: id, engine: .sqlite, columns: columns,
                                    primaryKey: keyColumns.sorted { $0.0 < $1.0 }.map(\.1))
            // A single INTEGER PRIMARY KEY column is the rowid: SQLite numbers rows it is not given.
            if keyColumns.count == 1, let index = columns.firstIndex(where: { $0.name == keyColumns[0].1 }),
               columns[index].nativeType.uppercased() == "INTEGER" {
                let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [name]) ?? ""
                table.columns[index].generated = .counter(.init(reusesValues: !sql.uppercased().contains("AUTOINCREMENT")))
            }
            for index in try Row.fetchAll(db, sql: "PRAGMA index_list(\(SQLiteNames.quote(name)))") {
                let origin: String = index["origin"]
                let partial: Int = index["partial"]
                guard origin != "pk", partial == 0 else { continue }
                let indexName: String = index["name"]
                let indexColumns = try Row.fetchAll(db, sql: "PRAGMA index_info(\(SQLiteNames.quote(indexName)))")
                    .map { $0["name"] as String? }
                guard !indexColumns.isEmpty, indexColumns.allSatisfy({ $0 != nil }) else { continue }
                let unique: Int = index["unique"]
                let names = indexColumns.compactMap { $0 }
                // Indexes SQLite made for UNIQUE constraints have reserved names; give them ordinary ones.
                let publicName = indexName.hasPrefix("sqlite_autoindex_") ? "\(name)_\(names.joined(separator: "_"))_key" : indexName
                table.indexes.append(IndexDefinition(name: publicName, columns: names, unique: unique == 1))
            }
            var keys: [Int: FerryCore.ForeignKeyDefinition] = [:]
            for row in try Row.fetchAll(db, sql: "PRAGMA foreign_key_list(\(SQLiteNames.quote(name)))") {
                let keyID: Int = row["id"]
                let from: String = row["from"]
                let referenced: String = row["table"]
                let to: String? = row["to"]
                if keys[keyID] == nil {
                    keys[keyID] = FerryCore.ForeignKeyDefinition(name: "\(name)_fk\(keyID)", columns: [],
                                                       referencedTable: TableID(schema: schema, name: referenced),
                                                       referencedColumns: [], onDelete: row["on_delete"], onUpdate: row["on_update"])
                }
                keys[keyID]!.columns.append(from)
                keys[keyID]!.referencedColumns.append(to ?? from)
            }
            table.foreignKeys = keys.keys.sorted().map { keys[$0]! }
            tables.append(table)
        }
        return tables
    }

    static func literalDefault(_ text: String?) -> Value? {
        guard let text, text.uppercased() != "NULL" else { return nil }
        if text.hasPrefix("'"), text.hasSuffix("'"), text.count >= 2 {
            return .text(String(text.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'"))
        }
        if Int64(text) != nil || Double(text) != nil { return .text(text) }
        return nil
    }
}

enum SQLiteNames {
    static func quote(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}

enum SQLiteErrors {
    /// Runs `body`, turning GRDB's errors into ``FerryError``s that name the file.
    static func wrap<T>(_ url: ConnectionURL, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as FerryError {
            throw error
        } catch let error as DatabaseError {
            let kind: FerryError.Kind = error.resultCode == .SQLITE_CONSTRAINT || error.resultCode == .SQLITE_MISMATCH ? .dataError : .database
            throw FerryError(kind, "SQLite \(url.database ?? ""): \(error.message ?? "\(error)")")
        }
    }
}
