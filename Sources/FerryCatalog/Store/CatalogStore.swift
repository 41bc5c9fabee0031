import Foundation

/// Where the catalog keeps its tables: the embedded SQLite file (one server) or a PostgreSQL database
/// that several servers share (a cluster). The catalog writes one SQL for both; what differs between them
/// is in ``CatalogDialect``.
public protocol CatalogStore: Sendable {
    var dialect: CatalogDialect { get }
    /// Where the store is, for messages (never with a password).
    var location: String { get }
    /// Runs `body` in one transaction that commits when it returns and rolls back when it throws.
    @discardableResult
    func write<T>(_ body: (any CatalogTransaction) throws -> T) throws -> T
    /// Runs `body` with a consistent view of the store.
    func read<T>(_ body: (any CatalogTransaction) throws -> T) throws -> T
}

/// The statements a transaction runs; `?` marks each argument.
public protocol CatalogTransaction {
    /// Runs a statement and returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [any CatalogArgument]) throws -> Int
    func rows(_ sql: String, _ arguments: [any CatalogArgument]) throws -> [CatalogRow]
}

extension CatalogTransaction {
    @discardableResult
    public func execute(_ sql: String) throws -> Int { try execute(sql, []) }

    public func row(_ sql: String, _ arguments: [any CatalogArgument] = []) throws -> CatalogRow? {
        try rows(sql, arguments).first
    }

    /// Whether the query returns a row.
    public func exists(_ sql: String, _ arguments: [any CatalogArgument]) throws -> Bool {
        try row(sql, arguments) != nil
    }

    /// The first column of every row, as text.
    public func strings(_ sql: String, _ arguments: [any CatalogArgument]) throws -> [String] {
        try rows(sql, arguments).map { try $0.string(0) }
    }
}

/// A value bound to a statement.
public enum CatalogValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
}

/// A Swift value a statement can take as an argument.
public protocol CatalogArgument {
    var catalogValue: CatalogValue { get }
}

extension String: CatalogArgument { public var catalogValue: CatalogValue { .text(self) } }
extension Int: CatalogArgument { public var catalogValue: CatalogValue { .integer(Int64(self)) } }
extension Int64: CatalogArgument { public var catalogValue: CatalogValue { .integer(self) } }
extension Double: CatalogArgument { public var catalogValue: CatalogValue { .real(self) } }
extension Bool: CatalogArgument { public var catalogValue: CatalogValue { .integer(self ? 1 : 0) } }
extension Data: CatalogArgument { public var catalogValue: CatalogValue { .blob(self) } }
extension CatalogValue: CatalogArgument { public var catalogValue: CatalogValue { self } }
extension Optional: CatalogArgument where Wrapped: CatalogArgument {
    public var catalogValue: CatalogValue { self?.catalogValue ?? .null }
}

/// One row a query returned, read by column name or position. A PostgreSQL store returns every value as
/// text; the readers convert it, so callers read both stores alike.
public struct CatalogRow: Sendable {
    let columns: [String]
    let values: [CatalogValue]

    public init(columns: [String], values: [CatalogValue]) {
        self.columns = columns
        self.values = values
    }

    func value(_ column: String) throws -> CatalogValue {
        guard let index = columns.firstIndex(of: column) else { throw CatalogError.corrupt("the catalog returned no column \(column)") }
        return values[index]
    }

    public func optionalString(_ column: String) throws -> String? { try Self.text(try value(column), column) }
    public func string(_ column: String) throws -> String { try required(optionalString(column), column) }
    public func string(_ index: Int) throws -> String { try required(Self.text(values[index], "#\(index)"), "#\(index)") }
    public func optionalInt(_ column: String) throws -> Int? { try Self.integer(try value(column), column).map(Int.init) }
    public func int(_ column: String) throws -> Int { try required(optionalInt(column), column) }
    public func int64(_ column: String) throws -> Int64 { try required(Self.integer(try value(column), column), column) }
    public func double(_ column: String) throws -> Double { try required(Self.real(try value(column), column), column) }
    public func bool(_ column: String) throws -> Bool { try int(column) != 0 }
    public func data(_ column: String) throws -> Data { try required(Self.blob(try value(column), column), column) }
    public func date(_ column: String) throws -> Date { Date(timeIntervalSince1970: try double(column)) }

    private func required<T>(_ value: T?, _ column: String) throws -> T {
        guard let value else { throw CatalogError.corrupt("the catalog's column \(column) is NULL") }
        return value
    }

    static func text(_ value: CatalogValue, _ column: String) throws -> String? {
        switch value {
        case .null: return nil
        case let .text(text): return text
        case let .integer(number): return String(number)
        case let .real(number): return String(number)
        case let .blob(data): return String(decoding: data, as: UTF8.self)
        }
    }

    static func integer(_ value: CatalogValue, _ column: String) throws -> Int64? {
        switch value {
        case .null: return nil
        case let .integer(number): return number
        case let .real(number): return Int64(number)
        case let .text(text):
            if let number = Int64(text) { return number }
            if text == "t" || text == "f" { return text == "t" ? 1 : 0 }
            throw CatalogError.corrupt("the catalog's column \(column) holds '\(text)', not an integer")
        case .blob: throw CatalogError.corrupt("the catalog's column \(column) holds bytes, not an integer")
        }
    }

    static func real(_ value: CatalogValue, _ column: String) throws -> Double? {
        switch value {
        case .null: return nil
        case let .real(number): return number
        case let .integer(number): return Double(number)
        case let .text(text):
            guard let number = Double(text) else { throw CatalogError.corrupt("the catalog's column \(column) holds '\(text)', not a number") }
            return number
        case .blob: throw CatalogError.corrupt("the catalog's column \(column) holds bytes, not a number")
        }
    }

    /// Bytes; PostgreSQL's text form of `bytea` is `\x` and hex digits.
    static func blob(_ value: CatalogValue, _ column: String) throws -> Data? {
        switch value {
        case .null: return nil
        case let .blob(data): return data
        case let .text(text):
            guard text.hasPrefix("\\x"), let data = Data(hex: text.dropFirst(2)) else {
                throw CatalogError.corrupt("the catalog's column \(column) does not hold bytes")
            }
            return data
        case .integer, .real: throw CatalogError.corrupt("the catalog's column \(column) holds a number, not bytes")
        }
    }
}

extension Data {
    /// Bytes from hex digits; nil when the text is not an even number of them.
    init?(hex: Substring) {
        guard hex.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }

    /// PostgreSQL's text form of a `bytea`.
    var postgresHex: String { "\\x" + map { String(format: "%02x", $0) }.joined() }
}
