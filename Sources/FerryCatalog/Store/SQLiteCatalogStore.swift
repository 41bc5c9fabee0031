import Foundation
import GRDB

/// The embedded store: one SQLite file, which only this server opens.
public final class SQLiteCatalogStore: CatalogStore {
    private let queue: DatabaseQueue
    public let location: String
    public var dialect: CatalogDialect { .sqlite }

    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        queue = try DatabaseQueue(path: path, configuration: configuration)
        location = path
    }

    @discardableResult

    public func write<T>(_ body: (any CatalogTransaction) throws -> T) throws -> T {
        try queue.write { try body(Transaction(db: $0)) }
    }

    public func read<T>(_ body: (any CatalogTransaction) throws -> T) throws -> T {
        try queue.read { try body(Transaction(db: $0)) }
    }

    private struct Transaction: CatalogTransaction {
        let db: Database

        func execute(_ sql: String, _ arguments: [any CatalogArgument]) throws -> Int {
            try db.execute(sql: sql, arguments: Self.arguments(arguments))
            return db.changesCount
        }

        func rows(_ sql: String, _ arguments: [any CatalogArgument]) throws -> [CatalogRow] {
            try Row.fetchAll(db, sql: sql, arguments: Self.arguments(arguments)).map { row in
                CatalogRow(columns: Array(row.columnNames), values: row.databaseValues.map(Self.value))
            }
        }

        static func arguments(_ arguments: [any CatalogArgument]) -> StatementArguments {
            StatementArguments(arguments.map { argument -> DatabaseValue in
                switch argument.catalogValue {
                case .null: return .null
                case let .integer(number): return number.databaseValue
                case let .real(number): return number.databaseValue
                case let .text(text): return text.databaseValue
                case let .blob(data): return data.databaseValue
                }
            })
        }

        static func value(_ value: DatabaseValue) -> CatalogValue {
            switch value.storage {
            case .null: return .null
            case let .int64(number): return .integer(number)
            case let .double(number): return .real(number)
            case let .string(text): return .text(text)
            case let .blob(data): return .blob(data)
            }
        }
    }
}
