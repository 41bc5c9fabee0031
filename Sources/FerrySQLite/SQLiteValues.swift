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

    /// Runs a prepared statement (its C handle) once with `values` bound in order, binding each directly:
    /// GRDB's arguments would box every value first, which costs a load or an apply more than SQLite's own
    /// insert. The statement is left reset.
    static func run(_ statement: OpaquePointer, binding values: [Value], in db: Database) throws {
        defer { sqlite3_reset(statement) }
        for (index, value) in values.enumerated() where bind(value, to: statement, at: Int32(index + 1)) != SQLITE_OK {
            throw lastError(db)
        }
        guard sqlite3_step(statement) == SQLITE_DONE else { throw lastError(db) }
    }

    private static func lastError(_ db: Database) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: sqlite3_extended_errcode(db.sqliteConnection)), message: db.lastErrorMessage)
    }

    /// Binds `value` to parameter `index` (1-based) of a prepared statement: integers (booleans as 0 and 1,
    /// an unsigned value past Int64 as its decimal text), reals, text, blobs, and arrays as JSON text.
    private static func bind(_ value: Value, to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch value {
        case .null: return sqlite3_bind_null(statement, index)
        case let .int(v): return sqlite3_bind_int64(statement, index, v)
        case let .uint(v) where v <= UInt64(Int64.max): return sqlite3_bind_int64(statement, index, Int64(v))
        case let .uint(v): return bindText(String(v), statement, index)
        case let .double(v): return sqlite3_bind_double(statement, index, v)
        case let .bool(v): return sqlite3_bind_int64(statement, index, v ? 1 : 0)
        case let .text(s): return bindText(s, statement, index)
        case let .bytes(b): return b.withUnsafeBytes { sqlite3_bind_blob64(statement, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64(b.count), transient) }
        case let .array(values): return bindText(JSONText.array(values), statement, index)
        }
    }

    private static func bindText(_ text: String, _ statement: OpaquePointer, _ index: Int32) -> Int32 {
        var text = text
        return text.withUTF8 { sqlite3_bind_text64(statement, index, UnsafeRawPointer($0.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self), UInt64($0.count), transient, UInt8(SQLITE_UTF8)) }
    }

    /// SQLite copies bound text and blobs at once.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
