import FerryCore
import Foundation
import GRDB
import GRDBSQLite

/// Converts between SQLite's storage classes and ``Value``s.
enum SQLiteValues {
    /// The value of one column of the current row. Text is read with its byte length, so a NUL
    /// character inside it is kept (GRDB's own decoding would stop at it).
    static func decode(_ statement: OpaquePointer, column i: Int32, as type: ColumnType) -> Value {
        switch sqlite3_column_type(statement, i) {
        case SQLITE_INTEGER:
            let v = sqlite3_column_int64(statement, i)
            if case .boolean = type { return .bool(v != 0) }
            return .int(v)
        case SQLITE_FLOAT:
            return .double(sqlite3_column_double(statement, i))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(statement, i))
            guard let bytes = sqlite3_column_text(statement, i) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, i))
            guard count > 0, let bytes = sqlite3_column_blob(statement, i) else { return .bytes([]) }
            return .bytes(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .null
        }
    }

    static func encode(_ value: Value) -> DatabaseValue {
        switch value {
        case .null: return .null
        case let .int(v): return v.databaseValue
        case let .uint(v): return v <= UInt64(Int64.max) ? Int64(v).databaseValue : String(v).databaseValue
        case let .double(v): return v.databaseValue
        case let .bool(v): return (v ? 1 : 0).databaseValue
        case let .text(s): return s.databaseValue
        case let .bytes(b): return Data(b).databaseValue
        case let .array(values): return JSONText.array(values).databaseValue
        }
    }
}
