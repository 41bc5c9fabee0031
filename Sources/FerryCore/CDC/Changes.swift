import Foundation

/// One row change read from a source's log, in source column names.
public struct RowChange: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case insert, update, delete, truncate
    }

    public var table: TableID
    public var kind: Kind
    /// The columns `values` and `oldValues` hold, in order.
    public var columns: [String]
    /// The new row (insert, update). A nil entry is a value the log did not carry because it did not
    /// change (PostgreSQL's unchanged TOAST): the target keeps the value it has.
    public var values: [Value?]
    /// The old row or old key (delete; update that changed the key), nil entries for columns not sent.
    public var oldValues: [Value?]?

    public init(table: TableID, kind: Kind, columns: [String], values: [Value?], oldValues: [Value?]? = nil) {
        self.table = table
        self.kind = kind
        self.columns = columns
        self.values = values
        self.oldValues = oldValues
    }
}

/// A change to a captured table's columns, seen in the source's log (PostgreSQL relation messages,
/// MySQL table maps).
public struct SchemaChange: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case addColumn(Column)
        case dropColumn(String)
        /// A change Ferry does not apply (a column's type changed, columns renamed): the table is suspended.
        case unsupported(String)
    }

    public var table: TableID
    public var kind: Kind

    public init(table: TableID, kind: Kind) {
        self.table = table
        self.kind = kind
    }

    /// What changed, for logs and events.
    public var description: String {
        switch kind {
        case let .addColumn(column): return "\(table): column \(column.name) (\(column.nativeType)) added"
        case let .dropColumn(name): return "\(table): column \(name) dropped"
        case let .unsupported(what): return "\(table): \(what)"
        }
    }
}

/// A committed source transaction: its changes in order, and where to resume after it.
public struct ChangeTransaction: Sendable {
    /// The source position just after this transaction's commit, in the engine's notation
    /// (`0/16B3748` on PostgreSQL); what the target stores as applied.
    public var position: String
    public var commitTime: Date
    /// Column changes that take effect before this transaction's rows (its rows have the new columns).
    public var schemaChanges: [SchemaChange]
    public var changes: [RowChange]
    /// The task-wide number of the first change, which `$AR_H_CHANGE_SEQ` ends with: set by the replication
    /// runner as it reads the stream (counting from 0 in each run); nil outside change processing.
    public var firstChangeNumber: Int?
    /// The cutover marker this transaction carries, if Ferry wrote one into it.
    public var marker: StreamMarker?
    /// True for a part of a larger source transaction that more parts follow (``partSize``): the target
    /// must not commit its changes before the last part's.
    public var continues: Bool

    public init(position: String, commitTime: Date, schemaChanges: [SchemaChange] = [], changes: [RowChange],
                firstChangeNumber: Int? = nil, marker: StreamMarker? = nil, continues: Bool = false) {
        self.position = position
        self.commitTime = commitTime
        self.schemaChanges = schemaChanges
        self.changes = changes
        self.firstChangeNumber = firstChangeNumber
        self.marker = marker
        self.continues = continues
    }
}

extension ChangeTransaction {
    /// Changes a capture holds for one source transaction before handing them over as a part, so that
    /// memory stays bounded whatever a transaction's size (ARCHITECTURE §4 rule 4). Every part but the last
    /// ``continues``: the parts are applied in one target transaction, which commits with the last one, so
    /// the target never shows part of a source transaction. A part carries the position of the last
    /// complete transaction; a run that stops part-way commits nothing of it, and the next applies it whole.
    public static let partSize = 50_000
}
