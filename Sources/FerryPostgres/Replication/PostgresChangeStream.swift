import FerryCore
import Foundation

/// Logical replication from PostgreSQL with pgoutput: creates the slot (exporting the snapshot the full
/// load reads), streams committed transactions, and acknowledges what the target has durably applied.
public final class PostgresChangeStream: @unchecked Sendable {
    public let slot: String
    public let publication: String
    private let conn: PGConnection
    /// Source tables by name, for decoding values into their neutral types.
    private var schemas: [TableID: TableSchema]
    private var relations: [UInt32: KnownRelation] = [:]

    /// A relation message with what decoding its rows needs, worked out once per message, not per row.
    private struct KnownRelation {
        var relation: PGRelation
        var table: TableID
        var names: [String]
        var types: [ColumnType]
    }
    private var flushed = LSN.zero
    private var received = LSN.zero
    private var lastStatus = Date.distantPast
    private var lastIdleAdvance = Date.distantPast
    /// How often an idle stream records the server's WAL end on the target (and then confirms it).
    static let idleAdvanceSeconds: TimeInterval = 10
    private var pending: (commitTime: Date, schemaChanges: [SchemaChange], changes: [RowChange], marker: StreamMarker?)?
    /// For looking up column types in relation messages (the replication connection is busy streaming).
    private let url: ConnectionURL
    private var catalogConnection: PGConnection?
    /// A backlog of at least this many bytes of WAL at `start` is read through SQL; nil streams every backlog.
    private let backlogThreshold: Int64?
    /// Reads the backlog while there is one; nil once the stream goes through the walsender.
    private var backlog: PostgresBacklogReader?

    /// Opens a replication connection. Call `createSlot` (first run) or go straight to `start`.
    /// `backlogThreshold`: see `PostgresBacklogReader`.
    public init(url: ConnectionURL, slot: String, publication: String, schemas: [TableSchema],
                backlogThreshold: Int64? = PostgresBacklogReader.defaultThreshold) throws {
        conn = try PGConnection(url, replication: true)
        self.url = url
        self.slot = slot
        self.publication = publication
        self.schemas = Dictionary(schemas.map { ($0.id, $0) }) { a, _ in a }
        self.backlogThreshold = backlogThreshold
    }

    deinit { backlog?.close() }

    /// Creates the publication for `tables` (when missing) and the slot. Returns the slot's consistent
    /// point and the exported snapshot; the snapshot stays valid until `start` is called on this stream.
    public func createSlot(tables: [TableID]) throws -> (start: LSN, snapshot: String) {
        let exists = try conn.query("SELECT 1 FROM pg_publication WHERE pubname = \(PGConnection.literal(publication))")
        if exists.isEmpty {
            let list = tables.map { PGConnection.quote($0) }.joined(separator: ", ")
            try conn.execute("CREATE PUBLICATION \(PGConnection.quote(publication)) FOR TABLE \(list)")
        }
        let row = try conn.query("CREATE_REPLICATION_SLOT \(PGConnection.quote(slot)) LOGICAL pgoutput EXPORT_SNAPSHOT")[0]
        guard let point = row[1].flatMap(LSN.init), let snapshot = row[2] else {
            throw FerryError(.database, "PostgreSQL \(conn.location): CREATE_REPLICATION_SLOT returned no snapshot")
        }
        return (point, snapshot)
    }

    /// Starts reading changes committed after `position`: a large backlog through SQL first, when the
    /// server allows it, then through the walsender.
    public func start(after position: LSN) throws {
        flushed = position
        received = position
        // Any failure to read through SQL (a server before PostgreSQL 12, a role without the right to copy the
        // slot) leaves the walsender, which reads the same changes.
        if let backlogThreshold, let reader = try? PostgresBacklogReader.open(url: url, slot: slot, publication: publication, after: position, threshold: backlogThreshold) {
            backlog = reader
            return
        }
        try startStreaming(after: position)
    }

    private func startStreaming(after position: LSN) throws {
        try conn.startCopyBoth("START_REPLICATION SLOT \(PGConnection.quote(slot)) LOGICAL \(position) (proto_version '1', messages 'true', publication_names \(PGConnection.literal(PGConnection.quote(publication))))")
    }

    /// The next committed transaction, or nil when none completes within `timeout` seconds. Answers
    /// keepalives and sends a status update at least every 10 seconds, so an idle slot keeps advancing.
    public func next(timeout: Double) throws -> ChangeTransaction? {
        let deadline = Date().addingTimeInterval(timeout)
        while let reader = backlog {
            switch try reader.next(before: deadline) {
            case let .item(payload):
                if let transaction = try handle(PGOutputDecoder.decode(payload)) { return transaction }
            case .waiting:
                return nil
            case .ended:
                // Every transaction that committed before `received` has been read: the walsender starts there.
                reader.close()
                backlog = nil
                try startStreaming(after: received)
            }
        }
        while true {
            let now = Date()
            if now.timeIntervalSince(lastStatus) >= 10 { try sendStatus() }
            let remaining = deadline.timeIntervalSince(now)
            guard remaining > 0, let bytes = try conn.readCopyData(timeout: min(remaining, 1)) else {
                if deadline.timeIntervalSinceNow <= 0 { return nil }
                continue
            }
            switch try ReplicationMessage.parse(bytes) {
            case let .keepalive(walEnd, replyRequested):
                if replyRequested { try sendStatus() }
                // Nothing received is waiting to be applied and no transaction is open, so every change
                // before walEnd is applied: an idle slot advances (its WAL is released) through this. The
                // position goes up as an empty transaction, so that the target records it before the
                // server is told: the slot never confirms past what the target holds.
                if pending == nil, flushed == received, walEnd > received, Date().timeIntervalSince(lastIdleAdvance) >= Self.idleAdvanceSeconds {
                    lastIdleAdvance = Date()
                    received = walEnd
                    return ChangeTransaction(position: walEnd.description, commitTime: Date(), changes: [])
                }
            case let .xlogData(_, _, payload):
                if let transaction = try handle(PGOutputDecoder.decode(payload)) { return transaction }
            }
        }
    }

    /// Records that the target has durably applied everything up to `position`; the server may release the WAL before it.
    public func acknowledge(_ position: LSN) throws {
        flushed = max(flushed, position)
        guard backlog != nil else { return try sendStatus() }
        // No walsender holds the slot while its backlog is read through SQL: it is advanced directly, at most
        // every 10 seconds, because an advance decodes the WAL again from the slot's restart point.
        guard Date().timeIntervalSince(lastStatus) >= 10 else { return }
        lastStatus = Date()
        try PostgresBacklogReader.confirm(slot: slot, at: flushed, on: catalog())
    }

    private func sendStatus() throws {
        lastStatus = Date()
        // Flushed only moves past what the target applied when nothing is waiting to be applied.
        try conn.sendCopyData(ReplicationMessage.statusUpdate(written: max(received, flushed), flushed: flushed, at: lastStatus))
    }

    private func handle(_ message: PGOutputMessage) throws -> ChangeTransaction? {
        switch message {
        case let .begin(_, commitTime, _):
            pending = (commitTime, [], [], nil)
        case let .relation(relation):
            let previous = relations[relation.id]?.relation
            let changes = try schemaChanges(relation, previous: previous)
            let table = TableID(schema: relation.schema, name: relation.name)
            let schema = schemas[table]
            relations[relation.id] = KnownRelation(relation: relation, table: table, names: relation.columns.map(\.name),
                                                   types: relation.columns.map { schema?.column(named: $0.name)?.type ?? .text })
            if !changes.isEmpty {
                if pending == nil { pending = (Date(), [], [], nil) }
                pending?.schemaChanges += changes
            }
        case let .insert(id, new):
            try append(id, .insert, new: new, old: nil)
            return takePart()
        case let .update(id, old, new):
            try append(id, .update, new: new, old: old)
            return takePart()
        case let .delete(id, old):
            try append(id, .delete, new: nil, old: old)
            return takePart()
        case let .truncate(ids, _, _):
            for id in ids { try append(id, .truncate, new: nil, old: nil) }
        case let .commit(_, endLSN, commitTime):
            let changes = pending?.changes ?? [], schemaChanges = pending?.schemaChanges ?? [], marker = pending?.marker
            pending = nil
            received = max(received, endLSN)
            return ChangeTransaction(position: endLSN.description, commitTime: commitTime, schemaChanges: schemaChanges, changes: changes,
                                     marker: marker)
        case let .message(transactional, _, prefix, content):
            // Ferry's cutover markers are written in transactions of their own; anyone else's messages are not Ferry's business.
            if transactional, prefix == StreamMarker.prefix, let marker = StreamMarker(text: String(decoding: content, as: UTF8.self)) {
                if pending == nil { pending = (Date(), [], [], nil) }
                pending?.marker = marker
            }
        case .other:
            break
        }
        return nil
    }

    private func append(_ relationID: UInt32, _ kind: RowChange.Kind, new: [PGColumnValue]?, old: [PGColumnValue]?) throws {
        guard let known = relations[relationID] else {
            throw FerryError(.database, "pgoutput sent a change for relation \(relationID) before describing it")
        }
        let types = known.types
        func values(_ tuple: [PGColumnValue]) -> [Value?] {
            zip(tuple, types).map { value, type in
                switch value {
                case .null: return .null
                case .unchangedToast: return nil
                case let .text(text): return PostgresValueCodec.decode(text: text, as: type)
                }
            }
        }
        let change = RowChange(table: known.table, kind: kind, columns: known.names,
                               values: new.map(values) ?? [], oldValues: old.map(values))
        if pending == nil { pending = (Date(), [], [], nil) }
        pending?.changes.append(change)
    }

    /// The open transaction's changes so far, once there are `ChangeTransaction.partSize` of them, at the
    /// position of the last complete transaction.
    private func takePart() -> ChangeTransaction? {
        guard let open = pending, open.changes.count >= ChangeTransaction.partSize else { return nil }
        pending = (open.commitTime, [], [], nil)
        return ChangeTransaction(position: received.description, commitTime: open.commitTime, schemaChanges: open.schemaChanges, changes: open.changes,
                                 continues: true)
    }

    /// A plain connection to the source's catalog, opened once when a relation message first needs it.
    private func catalog() throws -> PGConnection {
        if let catalogConnection { return catalogConnection }
        let conn = try PGConnection(url)
        catalogConnection = conn
        return conn
    }

    /// Known columns whose type in the relation message differs from the catalog's when the task started.
    private func changedTypes(_ relation: PGRelation, _ schema: TableSchema) throws -> [String] {
        let known = relation.columns.filter { schema.column(named: $0.name) != nil }
        guard !known.isEmpty else { return [] }
        let pairs = known.map { "(\($0.typeOID)::oid, \($0.typeModifier))" }.joined(separator: ", ")
        let formatted = try catalog().query("SELECT format_type(o, m) FROM (VALUES \(pairs)) v(o, m)").map { $0[0] ?? "" }
        return zip(known, formatted).compactMap { column, type in
            schema.column(named: column.name)?.nativeType == type ? nil : "column \(column.name) changed type to \(type)"
        }
    }

    /// Compares a relation message with the table's known columns; records the new shape and returns
    /// what changed (the types of added columns are read from the catalog).
    private func schemaChanges(_ relation: PGRelation, previous: PGRelation?) throws -> [SchemaChange] {
        let table = TableID(schema: relation.schema, name: relation.name)
        guard var schema = schemas[table] else { return [] }
        func shapes(_ relation: PGRelation) -> [ColumnDiff.Shape] {
            relation.columns.map { ColumnDiff.Shape(name: $0.name, type: "\($0.typeOID)(\($0.typeModifier))") }
        }
        var diff = ColumnDiff(shapes(relation), known: schema.columns.map(\.name), previous: previous.map(shapes))
        if previous == nil {
            // The first message for the table: its types are compared with the catalog's from the task's start.
            diff.unsupported += try changedTypes(relation, schema)
        }
        guard !diff.isEmpty else { return [] }
        var changes = diff.unsupported.map { SchemaChange(table: table, kind: .unsupported($0)) }
        changes += diff.dropped.map { SchemaChange(table: table, kind: .dropColumn($0)) }
        var added: [String: Column] = [:]
        if !diff.added.isEmpty {
            let catalog = try catalog()
            for column in relation.columns where diff.added.contains(column.name) {
                added[column.name] = try PostgresSchemaDiscovery.column(named: column.name, typeOID: column.typeOID, typeModifier: column.typeModifier, catalog)
                changes.append(SchemaChange(table: table, kind: .addColumn(added[column.name]!)))
            }
        }
        schema.columns = relation.columns.compactMap { schema.column(named: $0.name) ?? added[$0.name] }
        schemas[table] = schema
        return changes
    }
}
