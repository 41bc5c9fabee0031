import Foundation

/// One row of a task's full-load progress as a target stores it (`ferry_load_progress`): the load's start,
/// a table's plan, or a loaded chunk. ``LoadProgress`` reads and writes them; a target only keeps them.
public struct LoadProgressRow: Hashable, Sendable {
    /// The table's key (``LoadProgress/key(of:)``); empty for the load's own row.
    public var table: String
    /// The chunk's index; ``LoadProgress/tableRow`` for the table's (or the load's) own row.
    public var chunk: Int
    public var detail: String

    public init(table: String, chunk: Int, detail: String) {
        self.table = table
        self.chunk = chunk
        self.detail = detail
    }

    /// Which rows a write replaces.
    public enum Scope: Hashable, Sendable {
        /// None: the rows are added (or replace rows with their table and chunk).
        case none
        /// Every row of one table (its key).
        case table(String)
        /// Every row of the task.
        case task
    }
}

/// What a full load has done so far, as its target recorded it: where change capture starts after it (a
/// `full-load-and-cdc` run), and per table the value ranges it was split into, the chunks that committed
/// and whether the table finished. A run that takes over a stopped load skips what is done and loads only
/// the rest, chunk by chunk where the chunks are value ranges (ARCHITECTURE §4 rule 1: a chunk is read again
/// whole, after its rows are removed from the target).
public struct LoadProgress: Equatable, Sendable {
    /// The position the load's snapshot met in the change stream; nil for a load without change capture.
    public var startPosition: String?
    public var tables: [String: Table] = [:]

    /// One table's progress.
    public struct Table: Equatable, Sendable {
        /// The value ranges the table loads by, when its chunks are ranges; nil when it loads whole (or by
        /// page ranges or partitions, which a later run cannot read the same way).
        public var segments: RangeSegments?
        /// Rows committed per chunk that finished.
        public var loadedChunks: [Int: Int64] = [:]
        /// Whether the table finished (its keys and indexes too).
        public var finished = false

        public init(segments: RangeSegments?) {
            self.segments = segments
        }

        /// Rows in the chunks that finished.
        public var rowsLoaded: Int64 { loadedChunks.values.reduce(0, +) }
    }

    /// The chunk index of a table's own row (and the load's).
    public static let tableRow = -1

    public init(startPosition: String? = nil) {
        self.startPosition = startPosition
    }

    /// The key a table's rows are stored under.
    public static func key(of table: TableID) -> String { "\(table.schema).\(table.name)" }

    public func table(_ id: TableID) -> Table? { tables[Self.key(of: id)] }

    /// Reads the rows a target holds; rows it cannot read are ignored (their chunks load again).
    public init(rows: [LoadProgressRow]) {
        for row in rows where row.table.isEmpty && row.chunk == Self.tableRow {
            startPosition = row.detail.isEmpty ? nil : row.detail
        }
        for row in rows where !row.table.isEmpty && row.chunk == Self.tableRow {
            guard let plan = try? JSONDecoder().decode(TablePlanRecord.self, from: Data(row.detail.utf8)) else { continue }
            var table = Table(segments: plan.segments)
            table.finished = plan.finished
            tables[row.table] = table
        }
        for row in rows where !row.table.isEmpty && row.chunk >= 0 {
            guard let rows = Int64(row.detail), tables[row.table]?.segments != nil else { continue }
            tables[row.table]?.loadedChunks[row.chunk] = rows
        }
    }

    /// The row that records where change capture starts once the load is done (empty: none).
    public static func startRow(_ position: String?) -> LoadProgressRow {
        LoadProgressRow(table: "", chunk: tableRow, detail: position ?? "")
    }

    /// The row that records a table's split (and whether it finished).
    public static func tableRow(_ id: TableID, segments: RangeSegments?, finished: Bool) -> LoadProgressRow {
        let detail = (try? JSONEncoder().encode(TablePlanRecord(segments: segments, finished: finished))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return LoadProgressRow(table: key(of: id), chunk: tableRow, detail: detail)
    }

    /// The row that records a chunk that committed `rows` rows.
    public static func chunkRow(_ id: TableID, chunk: Int, rows: Int64) -> LoadProgressRow {
        LoadProgressRow(table: key(of: id), chunk: chunk, detail: String(rows))
    }

    private struct TablePlanRecord: Codable {
        var segments: RangeSegments?
        var finished: Bool
    }
}
