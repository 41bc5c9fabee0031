import FerryCore
import Foundation
import GRDB

/// Converts between SQLite's storage classes and ``Value``s.
enum SQLiteValues {
    static func decode(_ value: DatabaseValue, as type: ColumnType) -> Value {
        switch value.storage {
        case .null: return .null
        case let .int64(v):
            if case .boolean = type { return .bool(v != 0) }
            return .int(v)
        case let .double(v): return .double(v)
        case let .string(s): return .text(s)
        case let .blob(data): return .bytes([UInt8](data))
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
