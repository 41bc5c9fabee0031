import FerryCore

/// Reads table structure from `information_schema`.
enum MySQLSchemaDiscovery {
    static let systemSchemas = ["mysql", "information_schema", "performance_schema", "sys"]

    static func discover(_ conn: MySQLConnection, database: String?, _ mappings: TableMappings) throws -> [TableSchema] {
        let schemaFilter: String
        if let database {
            schemaFilter = "= \(MySQLConnection.literal(database))"
        } else {
            schemaFilter = "NOT IN (\(systemSchemas.map(MySQLConnection.literal).joined(separator: ", ")))"
        }
        if let database, try conn.query("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = \(MySQLConnection.literal(database))").isEmpty {
            throw FerryError(.notFound, "MySQL \(conn.location): database '\(database)' does not exist")
        }
        var jsonColumns: Set<String> = []
        if conn.isMariaDB {
            for row in try conn.query("""
                SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
                WHERE CONSTRAINT_SCHEMA \(schemaFilter) AND CHECK_CLAUSE LIKE 'json\\_valid(%'
                """) {
                let clause = row[2] ?? ""
                let column = clause.dropFirst("json_valid(`".count).dropLast(2).replacingOccurrences(of: "``", with: "`")
                jsonColumns.insert("\(row[0]!).\(row[1]!).\(column)")
            }
        }
        var tables: [TableID: TableSchema] = [:]
        var order: [TableID] = []
        for row in try conn.query("""
            SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.IS_NULLABLE,
                   c.COLUMN_DEFAULT, c.CHARACTER_MAXIMUM_LENGTH, c.NUMERIC_PRECISION, c.NUMERIC_SCALE, c.DATETIME_PRECISION, c.EXTRA
            FROM information_schema.COLUMNS c
            JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
            WHERE c.TABLE_SCHEMA \(schemaFilter) AND t.TABLE_TYPE = 'BASE TABLE' AND c.EXTRA NOT LIKE '%GENERATED%'
            ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION
            """) {
            let id = TableID(schema: row[0]!, name: row[1]!)
            guard mappings.selects(id) else { continue }
            let dataType = row[3]!.lowercased()
            let isJSON = jsonColumns.contains("\(id.schema).\(id.name).\(row[2]!)")
            let type = MySQLTypes.neutral(dataType: dataType, columnType: row[4]!, length: row[7].flatMap { Int($0) },
                                          precision: row[8].flatMap { Int($0) }, scale: row[9].flatMap { Int($0) },
                                          fractionDigits: row[10].flatMap { Int($0) }, isJSON: isJSON)
            let native = isJSON ? "json" : (MySQLTypes.isSpatial(dataType) ? "geometry:\(row[4]!)" : row[4]!)
            let generated = MySQLTypes.generatedDefault(row[6], extra: row[11] ?? "", mariaDB: conn.isMariaDB)
            let column = Column(name: row[2]!, type: type, nativeType: native, nullable: row[5] == "YES",
                                defaultValue: generated == nil ? MySQLTypes.literalDefault(row[6], mariaDB: conn.isMariaDB) : nil,
                                generated: generated)
            if tables[id] == nil {
                tables[id] = TableSchema(id: id, engine: .mysql, columns: [], primaryKey: [])
                order.append(id)
            }
            tables[id]!.columns.append(column)
        }
        var indexColumns: [TableID: [(name: String, unique: Bool, columns: [String])]] = [:]
        for row in try conn.query("""
            SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS
            WHERE TABLE_SCHEMA \(schemaFilter) ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
            """) {
            let id = TableID(schema: row[0]!, name: row[1]!)
            guard tables[id] != nil, let column = row[4] else { continue }
            var list = indexColumns[id] ?? []
            if let last = list.last, last.name == row[2]! {
                list[list.count - 1].columns.append(column)
            } else {
                list.append((row[2]!, row[3] == "0", [column]))
            }
            indexColumns[id] = list
        }
        for (id, list) in indexColumns {
            for index in list {
                if index.name == "PRIMARY" {
                    tables[id]!.primaryKey = index.columns
                } else {
                    tables[id]!.indexes.append(IndexDefinition(name: index.name, columns: index.columns, unique: index.unique))
                }
            }
        }
        var keys: [String: ForeignKeyDefinition] = [:]
        var keyOrder: [(TableID, String)] = []
        for row in try conn.query("""
            SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA,
                   k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE
            FROM information_schema.KEY_COLUMN_USAGE k
            JOIN information_schema.REFERENTIAL_CONSTRAINTS r
              ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
            WHERE k.TABLE_SCHEMA \(schemaFilter) AND k.REFERENCED_TABLE_NAME IS NOT NULL
            ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
            """) {
            let id = TableID(schema: row[0]!, name: row[1]!)
            guard tables[id] != nil else { continue }
            let key = "\(id)|\(row[2]!)"
            if keys[key] == nil {
                keys[key] = ForeignKeyDefinition(name: row[2]!, columns: [], referencedTable: TableID(schema: row[4]!, name: row[5]!),
                                                 referencedColumns: [], onDelete: row[7] ?? "NO ACTION", onUpdate: row[8] ?? "NO ACTION")
                keyOrder.append((id, key))
            }
            keys[key]!.columns.append(row[3]!)
            keys[key]!.referencedColumns.append(row[6]!)
        }
        for (id, key) in keyOrder { tables[id]!.foreignKeys.append(keys[key]!) }
        // MariaDB names CHECK constraints per table and lists the table; MySQL 8 per schema, through TABLE_CONSTRAINTS.
        let checks = conn.isMariaDB ? """
            SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
            WHERE CONSTRAINT_SCHEMA \(schemaFilter) ORDER BY 1, 2, 3
            """ : """
            SELECT tc.TABLE_SCHEMA, tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE FROM information_schema.TABLE_CONSTRAINTS tc
            JOIN information_schema.CHECK_CONSTRAINTS cc ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
            WHERE tc.CONSTRAINT_TYPE = 'CHECK' AND tc.TABLE_SCHEMA \(schemaFilter) ORDER BY 1, 2, 3
            """
        for row in try conn.query(checks) {
            let id = TableID(schema: row[0]!, name: row[1]!)
            // MariaDB's JSON columns carry a json_valid check of their own, which the JSON type brings back.
            guard tables[id] != nil, let clause = row[3], !clause.hasPrefix("json_valid(") else { continue }
            tables[id]!.checks.append(CheckConstraint(name: row[2]!, condition: "(\(clause))"))
        }
        return order.map { tables[$0]! }
    }
}
