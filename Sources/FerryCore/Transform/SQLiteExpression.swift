import Foundation
import GRDBSQLite

/// One add-column expression, compiled by an in-memory SQLite as DMS evaluates it: SQLite syntax and
/// functions, with `$NAME` references bound as SQLite parameters, plus DMS's
/// `operation_indicator(delete, update, insert)`. Not thread-safe: one per thread.
final class SQLiteExpression {
    /// The `$…` names the expression reads, in parameter order (without the `$`).
    let parameters: [String]
    private let db: OpaquePointer
    private let statement: OpaquePointer
    /// The operation of the row being evaluated, which `operation_indicator` reads.
    private let operation = CurrentOperation()

    /// Compiles `expression`; an expression that does not parse is an error on `field`.
    init(_ expression: String, field: String) throws {
        var handle: OpaquePointer?
        guard sqlite3_open_v2(":memory:", &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK, let handle else {
            sqlite3_close(handle)
            throw FerryError(.database, "cannot open an in-memory SQLite database to evaluate expressions")
        }
        sqlite3_create_function_v2(handle, "operation_indicator", 3, SQLITE_UTF8, Unmanaged.passUnretained(operation).toOpaque(),
                                   Self.operationIndicator, nil, nil, nil)
        var compiled: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let sql = "SELECT (\(expression))"
        let status = sql.withCString { sqlite3_prepare_v2(handle, $0, -1, &compiled, &tail) }
        let rest = tail.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        guard status == SQLITE_OK, let compiled, rest.isEmpty else {
            let message = status == SQLITE_OK ? "it holds more than one expression" : String(cString: sqlite3_errmsg(handle))
            sqlite3_finalize(compiled)
            sqlite3_close(handle)
            throw FerryError.invalidParameter(field, "does not parse as a SQLite expression: \(message)")
        }
        var names: [String] = []
        for index in stride(from: Int32(1), through: sqlite3_bind_parameter_count(compiled), by: 1) {
            let name = sqlite3_bind_parameter_name(compiled, index).map { String(cString: $0) } ?? "?"
            guard name.hasPrefix("$"), name.count > 1 else {
                sqlite3_finalize(compiled)
                sqlite3_close(handle)
                throw FerryError.invalidParameter(field, "'\(name)' is not a reference; write columns and headers as $NAME")
            }
            names.append(String(name.dropFirst()))
        }
        db = handle
        statement = compiled
        parameters = names
    }

    deinit {
        sqlite3_finalize(statement)
        sqlite3_close(db)
    }

    /// Evaluates the expression with `arguments` (one per parameter) for a row of `operation` (`INSERT`,
    /// `UPDATE` or `DELETE`) and reads the result as `type`.
    func evaluate(_ arguments: [Value], operation: String, as type: ColumnType) throws -> Value {
        self.operation.name = operation
        sqlite3_reset(statement)
        for (index, value) in arguments.enumerated() {
            bind(value, at: Int32(index + 1))
        }
        let status = sqlite3_step(statement)
        guard status == SQLITE_ROW else {
            throw FerryError(.dataError, String(cString: sqlite3_errmsg(db)))
        }
        return try result(as: type)
    }

    private func bind(_ value: Value, at index: Int32) {
        switch value {
        case .null: sqlite3_bind_null(statement, index)
        case let .int(v): sqlite3_bind_int64(statement, index, v)
        case let .uint(v):
            if v <= UInt64(Int64.max) { sqlite3_bind_int64(statement, index, Int64(v)) } else { bindText(String(v), index) }
        case let .double(v): sqlite3_bind_double(statement, index, v)
        case let .bool(v): sqlite3_bind_int64(statement, index, v ? 1 : 0)
        case let .text(v): bindText(v, index)
        case let .bytes(v):
            _ = v.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), Self.transient) }
        case .array: bindText(value.textForm ?? "", index)
        }
    }

    private func bindText(_ text: String, _ index: Int32) {
        sqlite3_bind_text(statement, index, text, -1, Self.transient)
    }

    /// The result column read as the target column's type; text that is not a number for a numeric
    /// column is an error rather than a silent NULL.
    private func result(as type: ColumnType) throws -> Value {
        let kind = sqlite3_column_type(statement, 0)
        if kind == SQLITE_NULL { return .null }
        let text = sqlite3_column_text(statement, 0).map { String(cString: $0) } ?? ""
        switch type {
        case .boolean:
            if kind == SQLITE_INTEGER || kind == SQLITE_FLOAT { return .bool(sqlite3_column_double(statement, 0) != 0) }
            switch text.lowercased() {
            case "true", "t", "1", "yes": return .bool(true)
            case "false", "f", "0", "no": return .bool(false)
            default: throw FerryError(.dataError, "'\(text)' is not a boolean")
            }
        case .integer:
            if kind == SQLITE_INTEGER { return .int(sqlite3_column_int64(statement, 0)) }
            guard let number = Int64(text) ?? Double(text).flatMap({ $0 == $0.rounded() ? Int64(exactly: $0) : nil }) else {
                throw FerryError(.dataError, "'\(text)' is not an integer")
            }
            return .int(number)
        case .float32, .float64:
            if kind == SQLITE_INTEGER || kind == SQLITE_FLOAT { return .double(sqlite3_column_double(statement, 0)) }
            guard let number = Double(text) else { throw FerryError(.dataError, "'\(text)' is not a number") }
            return .double(number)
        case .decimal:
            guard kind != SQLITE_TEXT || Double(text) != nil else { throw FerryError(.dataError, "'\(text)' is not a number") }
            return .text(text)
        case .binary, .varbinary, .blob:
            let count = Int(sqlite3_column_bytes(statement, 0))
            guard let bytes = sqlite3_column_blob(statement, 0) else { return .bytes([]) }
            return .bytes(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .text(text)
        }
    }

    /// `operation_indicator(flag_delete, flag_update, flag_insert)`: the flag of the row's operation.
    private static let operationIndicator: @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void = { context, count, values in
        guard let context, let values, count == 3, let data = sqlite3_user_data(context) else { return }
        let name = Unmanaged<CurrentOperation>.fromOpaque(data).takeUnretainedValue().name
        sqlite3_result_value(context, values[name == "DELETE" ? 0 : name == "UPDATE" ? 1 : 2])
    }

    /// SQLite copies bound text and blobs at once (SQLITE_TRANSIENT).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// The operation an expression is evaluated for, shared with SQLite's `operation_indicator` callback.
private final class CurrentOperation {
    var name = "INSERT"
}
