import FerryCore
import FerryPostgres
import Foundation

/// A store in a PostgreSQL database that every server of a cluster opens. One connection, used by one
/// transaction at a time; a connection the server closed (a restart, a broken network) is opened again
/// for the next transaction.
public final class PostgresCatalogStore: CatalogStore, @unchecked Sendable {
    private let url: ConnectionURL
    private let lock = NSLock()
    private var connection: PGConnection?
    public let location: String
    public var dialect: CatalogDialect { .postgres }

    /// A catalog connection notices a silent network (packets dropped, no reset) within seconds rather than
    /// TCP's minutes, so a node's round, which renews its lease, is not held past the lease.
    static let liveness = [("connect_timeout", "5"), ("keepalives", "1"), ("keepalives_idle", "2"), ("keepalives_interval", "1"),
                           ("keepalives_count", "2"), ("tcp_user_timeout", "4000")]

    /// Connects once, so that a wrong URL fails at start with the server's reason.
    public init(url: ConnectionURL) throws {
        self.url = url
        location = "postgres://\(url.location)"
        connection = try PGConnection(url, settings: Self.liveness)
    }

    @discardableResult

    public func write<T>(_ body: (any CatalogTransaction) throws -> T) throws -> T {
        try transaction(begin: "BEGIN", body)
    }

    public func read<T>(_ body: (any CatalogTransaction) throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    private func transaction<T>(begin: String, _ body: (any CatalogTransaction) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        let connection = try begun(begin)
        do {
            let result = try body(Transaction(connection: connection))
            try connection.execute("COMMIT")
            return result
        } catch {
            if connection.isOpen { try? connection.execute("ROLLBACK") } else { self.connection = nil }
            throw error
        }
    }

    /// A connection inside a new transaction; a connection found closed is replaced once.
    private func begun(_ begin: String) throws -> PGConnection {
        if let connection, connection.isOpen {
            do {
                try connection.execute(begin)
                return connection
            } catch let error as FerryError where error.kind == .connectionFailed {
                self.connection = nil
            }
        }
        let fresh = try PGConnection(url, settings: Self.liveness)
        try fresh.execute(begin)
        connection = fresh
        return fresh
    }

    private struct Transaction: CatalogTransaction {
        let connection: PGConnection

        func execute(_ sql: String, _ arguments: [any CatalogArgument]) throws -> Int {
            try connection.run(Self.numbered(sql), parameters: arguments.map(Self.text)).affected
        }

        func rows(_ sql: String, _ arguments: [any CatalogArgument]) throws -> [CatalogRow] {
            let outcome = try connection.run(Self.numbered(sql), parameters: arguments.map(Self.text))
            return outcome.rows.map { CatalogRow(columns: outcome.columns, values: $0.map { $0.map(CatalogValue.text) ?? .null }) }
        }

        static func text(_ argument: any CatalogArgument) -> String? {
            switch argument.catalogValue {
            case .null: return nil
            case let .integer(number): return String(number)
            case let .real(number): return "\(number)"
            case let .text(text): return text
            case let .blob(data): return data.postgresHex
            }
        }

        /// `?` arguments as PostgreSQL's `$1`, `$2`…, leaving quoted text alone.
        static func numbered(_ sql: String) -> String {
            var out = "", count = 0, quoted = false
            for character in sql {
                if character == "'" { quoted.toggle() }
                if character == "?", !quoted {
                    count += 1
                    out += "$\(count)"
                } else {
                    out.append(character)
                }
            }
            return out
        }
    }
}
