import Foundation

/// Several source transactions merged into what one target transaction must do: per target table, an
/// optional truncate, then the keys to delete, then the rows to upsert. Later changes to a key replace
/// earlier ones, so a row inserted, updated three times and deleted in one batch costs one delete.
/// Pure: no IO, no clock.
public struct ChangeBatch: Sendable {
    /// What one target table must do, in target column order (the written plan's columns).
    public struct TableChanges: Sendable, Equatable {
        public var truncateFirst = false
        /// Key values (in `TablePlan.targetPrimaryKey` order) of rows to delete.
        public var deletes: [[Value]] = []
        /// Whole rows to insert or replace; a nil entry keeps the target's value (an unchanged TOAST value).
        public var upserts: [[Value?]] = []
    }

    private enum Final: Sendable {
        case delete
        /// The row as read (later partial rows merge into it) and as written.
        case upsert(read: [Value?], written: [Value?])
    }

    private struct Pending: Sendable {
        var truncateFirst = false
        var order: [[Value]] = []
        var finals: [[Value]: Final] = [:]
    }

    /// A plan shared by reference: looking it up for each change then costs one retain, not one per field.
    private final class SharedPlan: Sendable {
        let plan: TablePlan
        init(_ plan: TablePlan) { self.plan = plan }
    }

    private let plans: [TableID: SharedPlan]
    private let transformers: [TableID: RowTransformer]
    private var pending: [TableID: Pending] = [:]
    private var tableOrder: [TableID] = []
    private var layouts: [TableID: Layout] = [:]
    /// The position and commit time of the last transaction added.
    public private(set) var position: String?
    public private(set) var commitTime: Date?
    public private(set) var transactionCount = 0
    public private(set) var changeCount = 0
    /// Per source table: inserts, updates, deletes and truncates seen (DMS's Inserts/Updates/Deletes/Ddls).
    public private(set) var counts: [TableID: [RowChange.Kind: Int]] = [:]
    /// The stream markers the batch's transactions carry, in order.
    public private(set) var markers: [StreamMarker] = []
    /// True when the batch ends with a part of a source transaction that later batches go on with
    /// (``ChangeTransaction/continues``): the target transaction stays open after it.
    public private(set) var endsInsideTransaction = false

    /// `plans` by source table; changes to other tables are ignored. `transformers` (by source table)
    /// turn rows into their written form (``TablePlan/written``).
    public init(plans: [TableID: TablePlan], transformers: [TableID: RowTransformer] = [:]) {
        self.init(shared: plans.mapValues(SharedPlan.init), transformers: transformers)
    }

    /// An empty batch over plans already shared (a part of this one).
    private init(shared plans: [TableID: SharedPlan], transformers: [TableID: RowTransformer]) {
        self.plans = plans
        self.transformers = transformers
    }

    public var isEmpty: Bool { transactionCount == 0 }

    /// Adds a committed transaction. Throws when a change cannot be applied by key (a table without a
    /// primary key, or a key the change does not carry).
    public mutating func add(_ transaction: ChangeTransaction) throws {
        for (index, change) in transaction.changes.enumerated() {
            guard let shared = plans[change.table] else { continue }
            counts[change.table, default: [:]][change.kind, default: 0] += 1
            changeCount += 1
            try add(change, shared.plan, transaction, number: transaction.firstChangeNumber.map { $0 + index })
        }
        if let marker = transaction.marker { markers.append(marker) }
        endsInsideTransaction = transaction.continues
        position = transaction.position
        commitTime = transaction.commitTime
        transactionCount += 1
    }

    /// The merged work per target table, in the order the tables first changed, with the written plan.
    public var tables: [(plan: TablePlan, changes: TableChanges)] {
        tableOrder.compactMap { source in
            guard let plan = plans[source]?.plan, let state = pending[source] else { return nil }
            var changes = TableChanges(truncateFirst: state.truncateFirst)
            for key in state.order {
                switch state.finals[key] {
                case .delete?: changes.deletes.append(key)
                case let .upsert(_, written)?: changes.upserts.append(written)
                case nil: break
                }
            }
            return (plan.written, changes)
        }
    }

    /// How many row changes the batch applies once merged (a truncate of a table with none counts as one).
    public var rowChangeCount: Int { entries().count }

    /// The batch cut in two halves of its merged row changes, in the order this batch applies them, each
    /// with this batch's position (a table's truncate goes with its first row); a batch of one row change
    /// comes back whole. How a batch the target refused is narrowed down to the rows it refuses. With
    /// `continuing`, each part leaves the target transaction open (``endsInsideTransaction``), so that
    /// they commit together, later.
    public func halves(continuing: Bool = false) -> [ChangeBatch] {
        let entries = entries()
        let middle = entries.count / 2
        let parts = middle == 0 ? [entries[...]] : [entries[..<middle], entries[middle...]]
        return parts.map { slice in
            var part = ChangeBatch(shared: plans, transformers: transformers)
            for entry in slice {
                if part.pending[entry.table] == nil {
                    part.pending[entry.table] = Pending(truncateFirst: entry.first && pending[entry.table]?.truncateFirst == true)
                    part.tableOrder.append(entry.table)
                }
                if let key = entry.key {
                    part.pending[entry.table]?.order.append(key)
                    part.pending[entry.table]?.finals[key] = pending[entry.table]?.finals[key]
                }
            }
            part.position = position
            part.commitTime = commitTime
            part.transactionCount = 1
            part.changeCount = slice.count
            part.endsInsideTransaction = continuing
            return part
        }
    }

    /// The merged row changes in apply order: each table's keys (nil for a truncate with no row after
    /// it), and whether the entry is its table's first.
    private func entries() -> [(table: TableID, key: [Value]?, first: Bool)] {
        var entries: [(table: TableID, key: [Value]?, first: Bool)] = []
        for table in tableOrder {
            guard let state = pending[table] else { continue }
            let keys = state.order.filter { state.finals[$0] != nil }
            if keys.isEmpty, state.truncateFirst { entries.append((table, nil, true)) }
            entries += keys.enumerated().map { (table, $1, $0 == 0) }
        }
        return entries
    }

    private mutating func add(_ change: RowChange, _ plan: TablePlan, _ transaction: ChangeTransaction, number: Int?) throws {
        if pending[change.table] == nil {
            pending[change.table] = Pending()
            tableOrder.append(change.table)
        }
        if change.kind == .truncate {
            pending[change.table] = Pending(truncateFirst: true)
            return
        }
        guard !plan.keyNames.isEmpty else {
            throw FerryError(.schemaMismatch, "\(change.table) has no primary key: Ferry applies changes by key, so it cannot replicate this table")
        }
        let layout = self.layout(of: change, plan)
        func row(_ values: [Value?]) -> [Value?] {
            layout.row.map { index in index.flatMap { $0 < values.count ? values[$0] : nil } }
        }
        func key(_ values: [Value?]) throws -> [Value] {
            try zip(plan.keyNames, layout.key).map { name, index in
                guard let index, index < values.count, let value = values[index] else {
                    throw FerryError(.dataError, "a change to \(change.table) does not carry its key column \(name)")
                }
                return value
            }
        }
        switch change.kind {
        case .insert, .update:
            let newKey = try key(change.values)
            if let old = change.oldValues, let oldKey = try? key(old), oldKey != newKey {
                set(change.table, oldKey, .delete)
            }
            // A row outside the selection rules' filters is not the target's (an update may have moved it out).
            let outside = zip(plan.filters, layout.filters).contains { filter, index in
                filter.admits(index.flatMap { $0 < change.values.count ? change.values[$0] : nil }) == false
            }
            if outside {
                set(change.table, newKey, .delete)
                return
            }
            var merged = row(change.values)
            if merged.contains(where: { $0 == nil }), case let .upsert(previous, _)? = pending[change.table]?.finals[newKey] {
                merged = zip(merged, previous).map { $0 ?? $1 }
            }
            var written = merged
            if let transformer = transformers[change.table] {
                let header = ChangeHeader(operation: change.kind == .insert ? "INSERT" : "UPDATE",
                                          commitTime: transaction.commitTime, streamPosition: transaction.position, changeNumber: number)
                written = try transformer.apply(merged, old: change.oldValues.map(row), header: header)
            }
            set(change.table, newKey, .upsert(read: merged, written: written))
        case .delete:
            let deleted = try key(change.oldValues ?? change.values)
            guard plan.softDeletes, let transformer = transformers[change.table] else {
                set(change.table, deleted, .delete)
                return
            }
            // A soft delete writes only the key and the operation flag: the row stays, marked deleted.
            var row = [Value?](repeating: nil, count: plan.columns.count)
            for (name, value) in zip(plan.keyNames, deleted) {
                if let index = plan.columns.firstIndex(where: { $0.source.name == name }) { row[index] = value }
            }
            let header = ChangeHeader(operation: "DELETE", commitTime: transaction.commitTime, streamPosition: transaction.position, changeNumber: number)
            set(change.table, deleted, .upsert(read: row, written: try transformer.apply(row, header: header)))
        case .truncate:
            break
        }
    }

    /// Where a change's columns go: for each plan column, key column and filtered column, its index among
    /// the change's columns. Worked out once per table and column list (a capture reuses the same list for its rows).
    private struct Layout {
        var columns: [String]
        var row: [Int?]
        var key: [Int?]
        var filters: [Int?]
    }

    private mutating func layout(of change: RowChange, _ plan: TablePlan) -> Layout {
        if let known = layouts[change.table], known.columns == change.columns { return known }
        let index = Dictionary(change.columns.enumerated().map { ($1, $0) }) { a, _ in a }
        let layout = Layout(columns: change.columns, row: plan.columns.map { index[$0.source.name] },
                            key: plan.keyNames.map { index[$0] }, filters: plan.filters.map { index[$0.column] })
        layouts[change.table] = layout
        return layout
    }

    private mutating func set(_ table: TableID, _ key: [Value], _ final: Final) {
        if pending[table]?.finals[key] == nil { pending[table]?.order.append(key) }
        pending[table]?.finals[key] = final
    }
}

/// Applies change batches to a target and records, in the same target transaction, the position applied.
public protocol ChangeApplier: AnyObject, Sendable {
    /// The position last applied for `task`, read from the target's control table; nil when none.
    func appliedPosition(task: String) throws -> String?

    /// Removes `task`'s rows from the control tables (its position, its chunks' claims and its load's
    /// progress): the task is over for good.
    func forget(task: String) throws

    /// Makes this run the task's owner on the target: raises the epoch of the task's control-table row
    /// above every earlier run's (making the row, with no position yet, when there is none) and returns
    /// it. From then on every `apply` of this applier commits only while the row still holds that epoch:
    /// an earlier run that still writes (a paused process, a lost node) is refused with `.fenced` and
    /// changes nothing. Call it before reading `appliedPosition`, so a run that lost cannot commit after.
    func claim(task: String) throws -> Int64

    /// Goes on with an existing claim on this connection (a reconnect), without raising the epoch.
    func hold(task: String, epoch: Int64)

    /// Throws `.fenced` when a later run has claimed the task over this applier's claim; does nothing
    /// when it holds none.
    func verifyClaim() throws

    /// Takes one chunk of the task's full load for this node (``ChunkFence``): raises the epoch of the
    /// chunk's own control-table row `fence.key` to `fence.epoch` (making the row when there is none), in
    /// a transaction that checks this applier's claim on the task. Throws `.fenced` when the row already
    /// holds a higher epoch: a later taker has the chunk.
    func claimChunk(_ fence: ChunkFence) throws

    /// From now on every transaction checks `chunk`'s claim as well as the task's (nil: the task's only).
    func hold(chunk: ChunkFence?)

    /// Applies the batch and stores its position for `task`, all in one target transaction. With no
    /// `task`, applies the rows only (a full load's or a split batch's rows) and stores no position.
    /// After `claim` or `hold`, the transaction first checks the claim's epoch and throws `.fenced`,
    /// writing nothing, when a later run has raised it.
    ///
    /// A batch that ``ChangeBatch/endsInsideTransaction`` leaves the target transaction open and stores
    /// no position; the batches after it go on in that transaction until one that does not end inside
    /// commits it, with its position. Any failure rolls the whole transaction back, unless
    /// ``undoesRefusedBatchesAlone``.
    func apply(_ batch: ChangeBatch, task: String?) throws

    /// While a transaction stays open across batches, apply each under a savepoint: a batch the target
    /// refuses (`.dataError`) is undone alone and the transaction stays open, so that its rows can be
    /// tried one by one (DataErrorPolicy). Off by default: on PostgreSQL, the subtransactions slowed the
    /// apply of a 2M-row transaction from 26 s to 46 s.
    var undoesRefusedBatchesAlone: Bool { get set }

    /// Rolls back the transaction batches left open (``apply(_:task:)``), if any: a run that stops
    /// inside a source transaction commits nothing of it.
    func rollback()

    /// Adds a column to, or drops one from, the plan's target table; does nothing when the table already
    /// has (or lacks) it, so that a replay converges.
    func alter(_ plan: TablePlan, _ change: SchemaChange) throws

    /// The rows of `task`'s full-load progress the target holds (``LoadProgress``), in the control schema.
    func loadProgress(task: String) throws -> [LoadProgressRow]

    /// Removes the rows of `task`'s full-load progress that `replacing` names, then writes `rows`, in one
    /// transaction that checks the claim like `apply` does (under a shared lock, beside the load's own).
    func saveLoadProgress(_ rows: [LoadProgressRow], task: String, replacing: LoadProgressRow.Scope) throws

    /// Deletes from the plan's target table the rows of segment `index` of `segments` (ranges over the
    /// plan's source columns), in one transaction checked like `apply`: a chunk that stopped part-way is
    /// emptied before it loads again.
    func deleteSegment(_ index: Int, of segments: RangeSegments, from plan: TablePlan) throws

    /// Says the applier will not be used for a while (a load's journal between two chunks, a change stream
    /// while its full load runs). An applier may then let its connection go, keeping any open transaction,
    /// and open another at its next call: a SQLite file's copy may have the file to itself meanwhile.
    func idle()

    func close()
}

extension ChangeApplier {
    /// Keeps the connection.
    public func idle() {}
}
