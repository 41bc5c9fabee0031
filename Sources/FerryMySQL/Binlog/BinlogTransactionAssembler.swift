import FerryCore
import Foundation

/// Turns binlog events into committed transactions of row changes for the captured tables. Pure: it
/// keeps the table maps, the open transaction and the position after the last complete one.
struct BinlogTransactionAssembler {
    /// The captured tables; rows of other tables are skipped.
    let schemas: [TableID: TableSchema]
    /// The position after the last complete transaction: where a restart resumes.
    private(set) var position: BinlogPosition
    private var file: String
    private var tables: [UInt64: BinlogTableMap] = [:]
    private var open: (gtid: GTID?, standalone: Bool, changes: [RowChange])?

    init(after position: BinlogPosition, schemas: [TableSchema]) {
        self.position = position
        file = position.file
        self.schemas = Dictionary(schemas.map { ($0.id, $0) }) { a, _ in a }
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
            open = (GTID(domain: gtid.domain, server: header.serverID, sequence: gtid.sequence), standalone, [])
        case let .query(_, sql):
            switch sql.uppercased() {
            case "BEGIN": if open == nil { open = (nil, false, []) }
            case "COMMIT": return commit(header)
            default: if open?.standalone ?? true { return commit(header) }
            }
        case let .tableMap(map):
            tables[map.id] = map
        case let .rows(rows):
            try append(rows)
        case .xid:
            return commit(header)
        case .formatDescription, .heartbeat, .other:
            break
        }
        return nil
    }

    private mutating func commit(_ header: BinlogEventHeader) -> ChangeTransaction {
        let group = open
        open = nil
        position = position.advanced(to: UInt64(header.nextPosition), in: file, gtid: group?.gtid)
        return ChangeTransaction(position: position.description, commitTime: Date(timeIntervalSince1970: Double(header.timestamp)),
                                 changes: group?.changes ?? [])
    }

    private mutating func append(_ rows: BinlogRows) throws {
        guard let map = tables[rows.tableID] else {
            throw FerryError(.database, "the binlog sent rows for table id \(rows.tableID) before its table map")
        }
        guard let schema = schemas[map.table] else { return }
        let names = schema.columns.map(\.name)
        for row in try BinlogRowImages.decode(rows, map: map, columns: schema.columns.map(\.type)) {
            let kind: RowChange.Kind = rows.kind == .write ? .insert : rows.kind == .update ? .update : .delete
            let change = RowChange(table: map.table, kind: kind, columns: names, values: row.after ?? [], oldValues: row.before)
            if open == nil { open = (nil, false, []) }
            open?.changes.append(change)
        }
    }
}
