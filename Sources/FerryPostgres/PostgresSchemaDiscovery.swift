import FerryCore

/// Reads table structure from PostgreSQL's catalog.
enum PostgresSchemaDiscovery {
    static let userSchemas = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"

    /// A column added to a table while changes stream, described from its type's OID and modifier (as a
    /// relation message gives them). It is nullable and has no default: rows already there get NULL.
    static func column(named name: String, typeOID: UInt32, typeModifier: Int32, _ conn: PGConnection) throws -> Column {
        let rows = try conn.query("""
            SELECT format_type(t.oid, \(typeModifier)), t.typname, t.typtype, et.typname, et.typtype,
                   (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = COALESCE(et.oid, t.oid))
            FROM pg_type t LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
            WHERE t.oid = \(typeOID)
            """)
        guard let row = rows.first else { throw FerryError(.notFound, "PostgreSQL \(conn.location): no type with OID \(typeOID) for new column \(name)") }
        let type = PostgresTypes.CatalogType(
            formatted: row[0]!, typeName: row[1]!, typeType: row[2]!, typeModifier: Int(typeModifier),
            elementName: row[3], elementType: row[4],
            enumLabels: row[5].flatMap(ArrayLiteral.parse)?.compactMap { if case let .text(t) = $0 { t } else { nil } } ?? [])
        return Column(name: name, type: PostgresTypes.neutral(type), nativeType: row[0]!, nullable: true)
    }

    static func discover(_ conn: PGConnection, _ mappings: TableMappings) throws -> [TableSchema] {
        var tables: [TableID: TableSchema] = [:]
        var order: [TableID] = []
        let columns = try conn.query("""
            SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid), a.atttypmod, t.typname, t.typtype, et.typname, et.typtype,
                   (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e
                     WHERE e.enumtypid = COALESCE(et.oid, t.oid)),
                   a.attidentity
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
            LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
            WHERE c.relkind = 'r' AND \(userSchemas)
            ORDER BY n.nspname, c.relname, a.attnum
            """)
        for row in columns {
            let id = TableID(schema: row[0]!, name: row[1]!)
            guard mappings.selects(id) else { continue }
            let catalogType = PostgresTypes.CatalogType(
                formatted: row[3]!, typeName: row[7]!, typeType: row[8]!, typeModifier: Int(row[6]!) ?? -1,
                elementName: row[9], elementType: row[10],
                enumLabels: row[11].flatMap(ArrayLiteral.parse)?.compactMap { if case let .text(t) = $0 { t } else { nil } } ?? [])
            let generated = PostgresTypes.generatedDefault(row[5], identity: row[12] ?? "")
            let column = Column(name: row[2]!, type: PostgresTypes.neutral(catalogType), nativeType: row[3]!, nullable: row[4] != "t",
                                defaultValue: generated == nil ? PostgresTypes.literalDefault(row[5]) : nil, generated: generated)
            if tables[id] == nil {
                tables[id] = TableSchema(id: id, engine: .postgres, columns: [], primaryKey: [])
                order.append(id)
            }
            tables[id]!.columns.append(column)
        }
        for row in try conn.query(indexQuery) {
            let id = TableID(schema: row[0]!, name: row[1]!)
            guard tables[id] != nil else { continue }
            let names = names(row[4])
            if row[3] == "t" {
                tables[id]!.primaryKey = names
            } else {
                tables[id]!.indexes.append(IndexDefinition(name: row[2]!, columns: names, unique: row[5] == "t"))
            }
        }
        for row in try conn.query("""
            SELECT n.nspname, c.relname, con.conname, pg_get_constraintdef(con.oid)
            FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE con.contype = 'c' AND \(userSchemas) ORDER BY n.nspname, c.relname, con.conname
            """) {
            let id = TableID(schema: row[0]!, name: row[1]!)
            guard tables[id] != nil, let definition = row[3], definition.hasPrefix("CHECK ") else { continue }
            tables[id]!.checks.append(CheckConstraint(name: row[2]!, condition: String(definition.dropFirst("CHECK ".count))))
        }
        for row in try conn.query(foreignKeyQuery) {
            let id = TableID(schema: row[0]!, name: row[1]!)
            guard tables[id] != nil else { continue }
            tables[id]!.foreignKeys.append(ForeignKeyDefinition(
                name: row[2]!, columns: names(row[3]), referencedTable: TableID(schema: row[4]!, name: row[5]!),
                referencedColumns: names(row[6]), onDelete: action(row[7]), onUpdate: action(row[8])))
        }
        return order.map { tables[$0]! }
    }

    private static let indexQuery = """
        SELECT n.nspname, c.relname, i.relname, ix.indisprimary,
               ARRAY(SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(num, ord)
                     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.num ORDER BY k.ord),
               ix.indisunique
        FROM pg_index ix
        JOIN pg_class c ON c.oid = ix.indrelid
        JOIN pg_class i ON i.oid = ix.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND ix.indexprs IS NULL AND ix.indpred IS NULL AND \(userSchemas)
        ORDER BY n.nspname, c.relname, i.relname
        """

    private static let foreignKeyQuery = """
        SELECT n.nspname, c.relname, con.conname,
               ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord),
               fn.nspname, fc.relname,
               ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
                     JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord),
               con.confdeltype, con.confupdtype
        FROM pg_constraint con
        JOIN pg_class c ON c.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_class fc ON fc.oid = con.confrelid
        JOIN pg_namespace fn ON fn.oid = fc.relnamespace
        WHERE con.contype = 'f' AND \(userSchemas)
        ORDER BY n.nspname, c.relname, con.conname
        """

    private static func names(_ literal: String?) -> [String] {
        (literal.flatMap(ArrayLiteral.parse) ?? []).compactMap { if case let .text(t) = $0 { t } else { nil } }
    }

    private static func action(_ code: String?) -> String {
        switch code {
        case "c": return "CASCADE"
        case "n": return "SET NULL"
        case "d": return "SET DEFAULT"
        case "r": return "RESTRICT"
        default: return "NO ACTION"
        }
    }
}
