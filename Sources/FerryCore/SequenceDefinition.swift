/// A sequence no column owns (PostgreSQL `CREATE SEQUENCE` used by the application itself), with where it
/// stands: what its next `nextval` returns.
public struct SequenceDefinition: Hashable, Sendable {
    public var id: TableID
    /// The source's type for it (`bigint`, `integer`, `smallint`).
    public var dataType: String
    public var start: Int64
    public var increment: Int64
    public var minimum: Int64
    public var maximum: Int64
    public var cycles: Bool
    /// What the next `nextval` returns.
    public var next: Int64

    public init(id: TableID, dataType: String, start: Int64, increment: Int64, minimum: Int64, maximum: Int64, cycles: Bool, next: Int64) {
        self.id = id
        self.dataType = dataType
        self.start = start
        self.increment = increment
        self.minimum = minimum
        self.maximum = maximum
        self.cycles = cycles
        self.next = next
    }
}
