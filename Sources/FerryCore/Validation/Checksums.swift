/// One side of a table as validation sees it: which columns to compare (in the same order on both
/// sides), which of them form the key, and which rows count.
public struct ChecksumTable: Hashable, Sendable {
    public var id: TableID
    public var columns: [Column]
    /// Indexes into `columns` of the key columns, in key order; empty when the table has no primary key.
    public var key: [Int]
    /// Filters rows must pass (the source's selection filters); empty on the target side.
    public var filters: [RowFilter]
    /// How rows are hashed; both sides of a comparison use the same kind.
    public var hashing: RowHashing

    public init(id: TableID, columns: [Column], key: [Int], filters: [RowFilter] = [], hashing: RowHashing) {
        self.id = id
        self.columns = columns
        self.key = key
        self.filters = filters
        self.hashing = hashing
    }

    /// The filters as one condition in an engine's SQL, or nil when there are none.
    public func filterSQL(quote: (String) -> String, literal: (String) -> String) -> String? {
        filters.isEmpty ? nil : filters.map { $0.sql(quote: quote, literal: literal) }.joined(separator: " AND ")
    }

    /// The single integer key column, when the key is exactly one integer column.
    public var integerKey: Column? {
        guard key.count == 1, case .integer = columns[key[0]].type else { return nil }
        return columns[key[0]]
    }
}

/// How a row's hash is computed.
public enum RowHashing: String, Hashable, Sendable {
    /// Inside the database, the engine's own fast hash over its native text form; only comparable with the
    /// same engine holding the same native column types.
    case native
    /// In Ferry, over the canonical text of every value (docs/validation.md), which every engine writes
    /// alike: the rows stream out and ``StreamedChecksums`` sums them.
    case canonical
}

/// How a table's rows are split into buckets whose checksums are compared.
public enum Partitioning: Hashable, Sendable {
    /// The whole table is one bucket (tables without a key).
    case whole
    /// Bucket `b` holds the integer keys `lower + b·width ..< lower + (b+1)·width`.
    case keyRanges(lower: Int64, width: Int64)
    /// Bucket `b` holds the rows whose key hashes to `b` modulo `count`.
    case keyHash(count: Int64)

    /// The key range of one bucket (for `keyRanges`).
    public func range(of bucket: Int64) -> (lower: Int64, upper: Int64)? {
        guard case let .keyRanges(lower, width) = self else { return nil }
        let start = lower &+ bucket &* width
        return (start, start &+ width)
    }
}

/// The number of rows in a bucket and the sum of their 64-bit row hashes, modulo 2^64.
public struct BucketChecksum: Hashable, Sendable {
    public var count: Int64
    public var sum: UInt64

    public init(count: Int64, sum: UInt64) {
        self.count = count
        self.sum = sum
    }

    /// Reads a checksum from the text a database returns: a count and an exact decimal sum.
    public init(count: String?, sum: String?) {
        self.count = Int64(count ?? "0") ?? 0
        self.sum = Self.wrapping(decimal: sum ?? "0")
    }

    /// An exact decimal integer (possibly negative, possibly far beyond 64 bits) reduced modulo 2^64, so
    /// that signed and unsigned per-row hashes from different engines compare equal.
    public static func wrapping(decimal text: String) -> UInt64 {
        var value: UInt64 = 0
        var negative = false
        for char in text.utf8 {
            if char == UInt8(ascii: "-") { negative = true; continue }
            guard char >= UInt8(ascii: "0"), char <= UInt8(ascii: "9") else { break }
            value = value &* 10 &+ UInt64(char - UInt8(ascii: "0"))
        }
        return negative ? 0 &- value : value
    }
}

/// One row as canonical text, one entry per compared column; nil is SQL NULL.
public typealias CanonicalRow = [String?]

/// One connection to one side of a validation. Every call blocks.
public protocol ChecksumSession: AnyObject, Sendable {
    /// A cheap estimate of the table's row count.
    func estimatedRows(_ table: ChecksumTable) throws -> Int64

    /// The smallest and largest value of the table's integer key, or nil when the table is empty.
    func keyBounds(_ table: ChecksumTable) throws -> (min: Int64, max: Int64)?

    /// Per-bucket row counts and hash sums, over every bucket or only `buckets`. Buckets without rows are absent.
    func checksums(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]?) throws -> [Int64: BucketChecksum]

    /// The canonical rows of the given buckets, in any order.
    func rows(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]) throws -> [CanonicalRow]

    /// The canonical rows with these canonical keys (those that exist).
    func rows(_ table: ChecksumTable, keys: [CanonicalRow]) throws -> [CanonicalRow]

    /// A condition in this engine's SQL that selects exactly the rows with these canonical keys.
    func keyCondition(_ table: ChecksumTable, keys: [CanonicalRow]) -> String

    /// Deletes the rows with these canonical keys; returns how many were deleted.
    func deleteRows(_ table: ChecksumTable, keys: [CanonicalRow]) throws -> Int64

    func close()
}

extension Partitioning {
    /// The key ranges `[lower, upper)` covered by `buckets` of a `keyRanges` partitioning, adjacent
    /// buckets merged into one range.
    public func keyRanges(of buckets: [Int64]) -> [(lower: Int64, upper: Int64)] {
        var ranges: [(lower: Int64, upper: Int64)] = []
        for bucket in Set(buckets).sorted() {
            guard let range = range(of: bucket) else { continue }
            if let last = ranges.last, last.upper == range.lower {
                ranges[ranges.count - 1].upper = range.upper
            } else {
                ranges.append(range)
            }
        }
        return ranges
    }
}
