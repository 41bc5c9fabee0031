import Crypto

/// Bucket checksums that Ferry sums itself as a table's canonical rows stream out of the database
/// (``RowHashing/canonical``): per bucket, the row count and the wrapping sum of each row's 64-bit hash.
/// Both sides of a comparison between engines are summed this way, so no hash has to exist in both
/// engines' SQL; each database only writes its values' canonical text, as a plain scan.
///
/// A row's hash is Swift's `Hasher` (SipHash) over its canonical text: values joined by 0x1F, NULL as
/// 0x1E, a value longer than ``longValueBytes`` standing in as the lower-case hex of its MD5 (the
/// engines' SQL does that replacement, so a LOB crosses the network as 32 bytes). `Hasher` is seeded
/// once per process; both sides of a comparison are hashed in the same process, and a sum is never kept.
public struct StreamedChecksums {
    /// Values longer than this many bytes are hashed as their MD5.
    public static let longValueBytes = 1024

    public let table: ChecksumTable
    public let partitioning: Partitioning
    /// The sums of the buckets whose rows came before the current bucket's.
    private var earlier: [Int64: BucketChecksum] = [:]
    /// The bucket the last rows went to: rows mostly arrive in key order, so a run of them is summed here
    /// before it goes into `earlier`.
    private var current: (bucket: Int64, checksum: BucketChecksum)?
    /// The row being added, as its canonical text.
    private var row: [UInt8] = []
    /// Where each value of the row being added starts in `row`, and whether it is NULL.
    private var values: [(start: Int, null: Bool)] = []

    public init(table: ChecksumTable, partitioning: Partitioning) {
        self.table = table
        self.partitioning = partitioning
        row.reserveCapacity(256)
        values.reserveCapacity(table.columns.count)
    }

    /// Adds the next value of the current row: its canonical text's bytes, or nil for NULL; with
    /// `droppingTrailingSpaces`, the text of a blank-padded `char(n)` whose padding is dropped here rather
    /// than in the engine's SQL. After the table's last column, the row is summed into its bucket.
    public mutating func append(_ value: UnsafeRawBufferPointer?, droppingTrailingSpaces: Bool = false) {
        if !values.isEmpty { row.append(0x1F) }
        values.append((row.count, value == nil))
        if var value {
            if droppingTrailingSpaces {
                while let last = value.last, last == 0x20 { value = UnsafeRawBufferPointer(rebasing: value.dropLast()) }
            }
            row.append(contentsOf: value)
        } else {
            row.append(0x1E)
        }
        if values.count == table.columns.count { endRow() }
    }

    /// Adds the next value of the current row from its text.
    public mutating func append(_ value: String?) {
        guard var text = value else { return append(nil as UnsafeRawBufferPointer?) }
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Per bucket with rows, the row count and the sum of the rows' hashes.
    public var checksums: [Int64: BucketChecksum] {
        var all = earlier
        if let current { all[current.bucket] = Self.adding(current.checksum, to: all[current.bucket]) }
        return all
    }

    private static func adding(_ part: BucketChecksum, to sum: BucketChecksum?) -> BucketChecksum {
        guard let sum else { return part }
        return BucketChecksum(count: sum.count + part.count, sum: sum.sum &+ part.sum)
    }

    private mutating func endRow() {
        let bucket = bucketOfRow()
        var hasher = Hasher()
        row.withUnsafeBytes { hasher.combine(bytes: $0) }
        let hash = UInt64(bitPattern: Int64(hasher.finalize()))
        if let current, current.bucket != bucket {
            earlier[current.bucket] = Self.adding(current.checksum, to: earlier[current.bucket])
            self.current = nil
        }
        current = (bucket, BucketChecksum(count: (current?.checksum.count ?? 0) + 1, sum: (current?.checksum.sum ?? 0) &+ hash))
        row.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }

    /// The bytes of value `index` of the current row (without its separator).
    private func bytes(of index: Int) -> ArraySlice<UInt8> {
        let end = index + 1 < values.count ? values[index + 1].start - 1 : row.count
        return row[values[index].start..<end]
    }

    /// The current row's bucket.
    private func bucketOfRow() -> Int64 {
        if case let .keyRanges(lower, width) = partitioning {
            let index = table.key[0]
            return Self.rangeBucket(values[index].null ? nil : bytes(of: index), lower: lower, width: width)
        }
        return Self.bucket(key: table.key.map { values[$0].null ? nil : bytes(of: $0) }, partitioning)
    }

    /// The bucket of a row whose key values have these canonical texts (in key order, nil for NULL), as the
    /// engines' SQL computes it (``Partitioning``): a key range, or the first 4 bytes of the MD5 of the key
    /// values joined like a row, modulo the bucket count.
    public static func bucket(key: [ArraySlice<UInt8>?], _ partitioning: Partitioning) -> Int64 {
        switch partitioning {
        case .whole: return 0
        case let .keyRanges(lower, width):
            return rangeBucket(key[0], lower: lower, width: width)
        case let .keyHash(count):
            var joined: [UInt8] = []
            for (n, value) in key.enumerated() {
                if n > 0 { joined.append(0x1F) }
                if let value { joined.append(contentsOf: value) } else { joined.append(0x1E) }
            }
            let prefix = Insecure.MD5.hash(data: joined).prefix(4).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return Int64(prefix % UInt64(count))
        }
    }

    private static func rangeBucket(_ key: ArraySlice<UInt8>?, lower: Int64, width: Int64) -> Int64 {
        ((key.flatMap(integer) ?? lower) &- lower) / width
    }

    /// A decimal integer's value, or nil when the bytes are not one.
    static func integer(_ text: ArraySlice<UInt8>) -> Int64? {
        var value: Int64 = 0
        var negative = false
        var digits = 0
        for (n, byte) in text.enumerated() {
            if n == 0, byte == UInt8(ascii: "-") { negative = true; continue }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Int64(byte - UInt8(ascii: "0"))
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = negative ? shifted &- digit : shifted &+ digit
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    /// Whether a value of this type can have a canonical text longer than ``longValueBytes`` (so that the
    /// engines' SQL must check its length); numbers, dates and times never do.
    public static func mayBeLong(_ type: ColumnType) -> Bool {
        switch type {
        case .boolean, .integer, .float32, .float64, .date, .time, .timestamp, .timestampTZ, .uuid, .interval, .year:
            return false
        case let .decimal(precision, _): return precision.map { $0 + 2 > longValueBytes } ?? true
        case let .char(length), let .varchar(length): return length.map { $0 * 4 > longValueBytes } ?? true
        case let .binary(length), let .varbinary(length): return length * 2 > longValueBytes
        case let .bit(length, _): return length > longValueBytes
        default: return true
        }
    }

    /// A value whose text Ferry writes itself (SQLite's) as the row hash takes it: longer than
    /// ``longValueBytes``, its MD5 in hex, as the engines' SQL does. Key values are never replaced
    /// (``ChecksumTable/streamedColumns(_:)``).
    public static func capped(_ value: String) -> String {
        guard value.utf8.count > longValueBytes else { return value }
        return Hex.encode(Array(Insecure.MD5.hash(data: Array(value.utf8))))
    }
}

extension ChecksumTable {
    /// Each column's expression (or other fact) for ``StreamedChecksums``, from an engine's
    /// `expression(column, capped)`: key columns are never capped, so that a row's bucket is the one the
    /// engine's SQL gives it.
    public func streamedColumns<T>(_ expression: (Column, Bool) -> T) -> [T] {
        columns.enumerated().map { expression($1, !key.contains($0)) }
    }
}
