import Foundation

/// Turns rows as a source reads them (one value per plan column) into rows as the target writes them
/// (``TablePlan/written``): cuts LOBs over the plan's ``LobLimit`` (counting them), masks the masked
/// columns, and appends each computed column's value and each before-image column's old value.
/// Serialised by a lock; give each thread its own for speed.
public final class RowTransformer: @unchecked Sendable {
    /// Where an expression parameter's value comes from.
    enum Argument {
        case column(Int)
        case header(String)
        case constant(String)
    }

    private struct Computed {
        var column: ComputedColumn
        var expression: SQLiteExpression
        var arguments: [Argument]
    }

    private let masks: [(index: Int, masking: DataMasking)]
    private let computed: [Computed]
    private let lobLimit: LobLimit?
    private let lobColumns: [(index: Int, name: String)]
    private let table: TableID
    /// Per before-image column: the plan column it copies, whether that is a key column, and its mask.
    private let beforeImage: [(index: Int, isKey: Bool, masking: DataMasking?)]
    private var cut: [String: Int] = [:]
    private let lock = NSLock()

    /// Compiles the plan's expressions; a reference to a column the plan does not read, or to an unknown
    /// header, is an error naming the rule.
    public init(plan: TablePlan) throws {
        masks = plan.columns.enumerated().compactMap { index, column in column.masking.map { (index, $0) } }
        lobLimit = plan.lobLimit
        lobColumns = plan.lobLimit == nil ? [] : plan.columns.enumerated().compactMap { index, column in
            LobLimit.applies(to: column.source.type) ? (index, column.source.name) : nil
        }
        table = plan.source.id
        beforeImage = plan.beforeImageColumns.map { index, _ in
            (index, plan.keyNames.contains(plan.columns[index].source.name), plan.columns[index].masking)
        }
        computed = try plan.computed.map { column in
            let field = "rule '\(column.ruleID)'.expression"
            let expression = try SQLiteExpression(column.expression, field: field)
            let arguments = try expression.parameters.map { name -> Argument in
                if ChangeHeader.variables.contains(name) { return .header(name) }
                switch name {
                case "AR_M_SOURCE_SCHEMA": return .constant(plan.source.id.schema)
                case "AR_M_SOURCE_TABLE_NAME": return .constant(plan.source.id.name)
                default: break
                }
                if name.hasPrefix("AR_") {
                    throw FerryError.invalidParameter(field, "$\(name) is not supported; expected a column or one of \((ChangeHeader.variables + ["AR_M_SOURCE_SCHEMA", "AR_M_SOURCE_TABLE_NAME"]).map { "$\($0)" }.joined(separator: ", "))")
                }
                guard let index = plan.columns.firstIndex(where: { $0.source.name == name })
                    ?? plan.columns.firstIndex(where: { $0.source.name.lowercased() == name.lowercased() }) else {
                    throw FerryError.invalidParameter(field, "column '\(name)' is not a column of \(plan.source.id) that the task copies")
                }
                return .column(index)
            }
            return Computed(column: column, expression: expression, arguments: arguments)
        }
    }

    /// How many values of each column were cut to the LOB limit so far.
    public var cutValues: [String: Int] {
        lock.withLock { cut }
    }

    /// One row in write form. A nil value (a column the change did not carry) stays nil, and so does a
    /// computed column that reads one. `old` is an update's before image (plan order), where the source
    /// logged one; a key column it lacks did not change. Before-image columns are NULL for other rows.
    public func apply(_ row: [Value?], old: [Value?]? = nil, header: ChangeHeader) throws -> [Value?] {
        try lock.withLock {
            var out = row
            if let lobLimit {
                for (index, name) in lobColumns where index < out.count {
                    guard let value = out[index], let shorter = lobLimit.cut(value) else { continue }
                    if lobLimit.failsTable {
                        throw FerryError(.dataError, "\(table).\(name) holds a value over the LOB limit of \(lobLimit.bytes / 1024) KB, and DataTruncationErrorPolicy does not allow cutting it")
                    }
                    out[index] = shorter
                    cut[name, default: 0] += 1
                }
            }
            for (index, masking) in masks where index < out.count {
                out[index] = out[index].map(masking.mask)
            }
            for item in computed {
                var arguments: [Value] = []
                var complete = true
                for argument in item.arguments {
                    switch argument {
                    case let .column(index):
                        guard index < row.count, let value = row[index] else { complete = false; break }
                        arguments.append(value)
                    case let .header(name): arguments.append(.text(header.value(of: name)))
                    case let .constant(text): arguments.append(.text(text))
                    }
                }
                guard complete else { out.append(nil); continue }
                do {
                    out.append(try item.expression.evaluate(arguments, operation: header.operation, as: item.column.type))
                } catch let error as FerryError {
                    throw FerryError(.dataError, "column '\(item.column.name)' of add-column rule '\(item.column.ruleID)': \(error.message)")
                }
            }
            for (index, isKey, masking) in beforeImage {
                // A soft-deleted row keeps the before images it had.
                if header.operation == "DELETE" { out.append(nil); continue }
                var value: Value = .null
                if header.operation == "UPDATE" {
                    value = old.flatMap { index < $0.count ? $0[index] : nil } ?? (isKey && index < row.count ? row[index] : nil) ?? .null
                }
                out.append(masking.map { $0.mask(value) } ?? value)
            }
            return out
        }
    }

    /// `apply(rows:header:)` as a pipe's transform.
    public func batchTransform(header: ChangeHeader) -> @Sendable ([[Value]]) throws -> [[Value]] {
        { rows in try self.apply(rows: rows, header: header) }
    }

    /// A batch of full-load rows in write form.
    public func apply(rows: [[Value]], header: ChangeHeader) throws -> [[Value]] {
        try rows.map { row in try apply(row.map(Optional.some), header: header).map { $0 ?? .null } }
    }
}
