import FerryCore
import Foundation

/// Turns binlog events into committed transactions of row changes for the captured tables. Pure: it
/// keeps the table maps, the open transaction and the position after the last complete one.
struct BinlogTransactionAssembler {
    /// The captured tables, with the columns as the stream last described them; rows of other tables are skipped.
    private(set) var schemas: [TableID: TableSchema]
    /// Each table's columns as its last table map in this stream described them (with column names).
    private var shapes: [TableID: [ColumnDiff.Shape]] = [:]
    /// The position after the last complete transaction: where a restart resumes.
    private(set) var position: BinlogPosition
    private var file: String
    private var tables: [UInt64: BinlogTableMap] = [:]
    /// Table ids of tables the task does not capture.
    private var skipped: Set<UInt64> = []
    private var open: (gtid: GTID?, standalone: Bool, schemaChanges: [SchemaChange], changes: [RowChange])?

    init(after position: BinlogPosition, schemas: [TableSchema]) {
        self.position = position
        file = position.file
        self.schemas = Dictionary(schemas.map { ($0.id, $0) }) { a, _ in a }
    }

    /// Whether rows of this table id matter: the table is captured (or its map is unknown, which `add` reports).
    func captures(tableID: UInt64) -> Bool {
        if skipped.contains(tableID) { return false }
        guard let map = tables[tableID] else { return true }
        return schemas[map.table] != nil
    }

    /// Whether a table is captured; when it is not, its table id is remembered so that its rows are skipped.
    mutating func captures(_ table: TableID, id: UInt64) -> Bool {
        guard schemas[table] == nil else { return true }
        tables[id] = nil
        skipped.insert(id)
        return false
    }

    /// Takes the next event; returns a transaction when the event completes one.
    mutating func add(_ header: BinlogEventHeader, _ event: BinlogEvent) throws -> ChangeTransaction? {
        switch event {
        case let .rotate(file, offset):
            self.file = file
            if open == nil, header.nextPosition != 0 || position.file != file {
                position = position.advanced(to: offset, in: file, gtid: nil)
            }
        case let .gtid(gtid, standalone):
            open = (GTID(domain: gtid.domain, server: header.serverID, sequence: gtid.sequence), standalone, [], [])
        case let .query(_, sql):
            switch sql.uppercased() {
            case "BEGIN": if open == nil { open = (nil, false, [], []) }
            case "COMMIT": return commit(header)
            default: if open?.standalone ?? true { return commit(header) }
            }
        case let .tableMap(map):
            skipped.remove(map.id)
            tables[map.id] = map
        case let .rows(rows):
            try append(rows)
            return takePart(header)
        case .xid:
            return commit(header)
        case .formatDescription, .heartbeat, .other:
            break
        }
        return nil
    }

    /// The open transaction's changes so far, once there are `ChangeTransaction.partSize` of them, at the
    /// position of the last complete transaction.
    private mutating func takePart(_ header: BinlogEventHeader) -> ChangeTransaction? {
        guard let group = open, group.changes.count >= ChangeTransaction.partSize else { return nil }
        open = (group.gtid, group.standalone, [], [])
        return ChangeTransaction(position: position.description, commitTime: Date(timeIntervalSince1970: Double(header.timestamp)),
                                 schemaChanges: group.schemaChanges, changes: group.changes, continues: true)
    }

    private mutating func commit(_ header: BinlogEventHeader) -> ChangeTransaction {
        let group = open
        open = nil
        position = position.advanced(to: UInt64(header.nextPosition), in: file, gtid: group?.gtid)
        return ChangeTransaction(position: position.description, commitTime: Date(timeIntervalSince1970: Double(header.timestamp)),
                                 schemaChanges: group?.schemaChanges ?? [], changes: group?.changes ?? [])
    }

    private mutating func append(_ rows: BinlogRows) throws {
        guard let map = tables[rows.tableID] else {
            throw FerryError(.database, "the binlog sent rows for table id \(rows.tableID) before its table map")
        }
        guard var schema = schemas[map.table] else { return }
        if open == nil { open = (nil, false, [], []) }
        var names = schema.columns.map(\.name)
        if let mapNames = map.names {
            // Column names in the table map: the columns are matched by name, and DDL shows as differences.
            let shape = zip(mapNames, zip(map.types, map.metadata)).map { ColumnDiff.Shape(name: $0, type: "\($1.0):\($1.1)") }
            let diff = ColumnDiff(shape, known: names, previous: shapes[map.table])
            shapes[map.table] = shape
            if !diff.isEmpty {
                var changes = diff.unsupported.map { SchemaChange(table: map.table, kind: .unsupported($0)) }
                changes += diff.dropped.map { SchemaChange(table: map.table, kind: .dropColumn($0)) }
                var added: [String: Column] = [:]
                for name in diff.added {
                    let (type, native) = BinlogOptionalMetadata.columnType(of: map, mapNames.firstIndex(of: name)!)
                    added[name] = Column(name: name, type: type, nativeType: native, nullable: true)
                    changes.append(SchemaChange(table: map.table, kind: .addColumn(added[name]!)))
                }
                schema.columns = mapNames.compactMap { schema.column(named: $0) ?? added[$0] }
                schemas[map.table] = schema
                open?.schemaChanges += changes
            }
            names = mapNames
        }
        let types = names.map { schema.column(named: $0)?.type ?? .text }
        for row in try BinlogRowImages.decode(rows, map: map, columns: types) {
            let kind: RowChange.Kind = rows.kind == .write ? .insert : rows.kind == .update ? .update : .delete
            open?.changes.append(RowChange(table: map.table, kind: kind, columns: names, values: row.after ?? [], oldValues: row.before))
        }
    }
}
