import CMariaDB
import FerryCore
import Foundation

/// One MariaDB Connector/C connection. Blocking; use it from one thread at a time.
public final class MySQLConnection: @unchecked Sendable {
    let handle: UnsafeMutablePointer<MYSQL>
    /// `host:port/database`, for messages.
    public let location: String
    /// The server's version string, e.g. `10.11.19-MariaDB-0+deb12u1-log`.
    public let serverVersion: String

    /// What `LOAD DATA LOCAL INFILE` reads (``loadLocal(_:data:)``).
    let infile = LocalInfileData()

    private static let libraryReady: Bool = mysql_server_init(0, nil, nil) == 0

    /// Connects and sets the session up for exact copies: utf8mb4, UTC, strict SQL mode. `database`
    /// replaces the URL's (empty: none). With `databaseMayBeMissing`, a database the server does not
    /// have yet is no error: the session then has no default database (a target the load creates).
    /// `localInfile` allows `LOAD DATA LOCAL INFILE`, served from memory only (``LocalInfileData``).
    public init(_ url: ConnectionURL, database: String? = nil, databaseMayBeMissing: Bool = false, localInfile: Bool = false) throws {
        location = url.location
        do {
            handle = try Self.connect(url, database: database ?? url.database, localInfile: localInfile)
        } catch let error as FerryError where error.kind == .notFound && databaseMayBeMissing {
            handle = try Self.connect(url, database: nil, localInfile: localInfile)
        }
        if localInfile { LocalInfileData.install(on: handle, infile) }
        serverVersion = String(cString: mysql_get_server_info(handle))
        try execute("SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO', net_write_timeout = 3600, net_read_timeout = 3600")
    }

    deinit { mysql_close(handle) }

    /// A connected handle; a database the server does not have is a ``FerryError/Kind/notFound`` error.
    private static func connect(_ url: ConnectionURL, database: String?, localInfile: Bool) throws -> UnsafeMutablePointer<MYSQL> {
        guard Self.libraryReady, let handle = mysql_init(nil) else {
            throw FerryError(.connectionFailed, "MySQL \(url.location): the client library could not start")
        }
        var allowLocal = UInt32(localInfile ? 1 : 0)
        mysql_options(handle, MYSQL_OPT_LOCAL_INFILE, &allowLocal)
        var timeout = UInt32(url.parameters["connect_timeout"].flatMap(UInt32.init) ?? 10)
        mysql_options(handle, MYSQL_OPT_CONNECT_TIMEOUT, &timeout)
        mysql_options(handle, MYSQL_SET_CHARSET_NAME, "utf8mb4")
        // A host name, `localhost` included, is reached over TCP at the URL's port, never through a socket file.
        var tcp = MYSQL_PROTOCOL_TCP.rawValue
        mysql_options(handle, MYSQL_OPT_PROTOCOL, &tcp)
        try requireTLS(handle, url)
        let connected = mysql_real_connect(handle, url.host, url.user ?? "root", url.password, database.flatMap { $0.isEmpty ? nil : $0 },
                                           UInt32(url.port ?? 3306), nil, 0)
        guard connected != nil else {
            var message = String(cString: mysql_error(handle))
            let code = mysql_errno(handle)
            mysql_close(handle)
            if let mode = url.parameters["sslmode"], ["verify-ca", "verify-full"].contains(mode), message.contains("certificate") {
                // Connector/C does not say which check failed.
                message += " (sslmode \(mode): the server's certificate must be signed by the authority in sslrootcert and name the host \(url.host))"
            }
            // ER_BAD_DB_ERROR
            throw FerryError(code == 1049 ? .notFound : .connectionFailed, "MySQL \(url.location): \(message)")
        }
        return handle
    }

    /// TLS as the URL's `sslmode` asks: `require` refuses a server without it before any password is sent;
    /// `verify-ca` and `verify-full` also check the server's certificate against `sslrootcert`, and its
    /// name (Connector/C checks the name in both).
    private static func requireTLS(_ handle: UnsafeMutablePointer<MYSQL>, _ url: ConnectionURL) throws {
        var on: CChar = 1
        switch url.parameters["sslmode"] {
        case "require"?:
            mysql_options(handle, MYSQL_OPT_SSL_ENFORCE, &on)
        case let mode? where ["verify-ca", "verify-full"].contains(mode):
            guard let authority = url.parameters["sslrootcert"] else {
                mysql_close(handle)
                throw FerryError.invalidParameter("sslrootcert", "sslmode \(mode) for MySQL \(url.location) needs sslrootcert: the file of the certificate authority that signed the server's certificate")
            }
            mysql_options(handle, MYSQL_OPT_SSL_CA, authority)
            mysql_options(handle, MYSQL_OPT_SSL_ENFORCE, &on)
            mysql_options(handle, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on)
        default:
            break
        }
    }

    /// Whether the server is MariaDB (rather than Oracle MySQL).
    public var isMariaDB: Bool { serverVersion.contains("MariaDB") }

    /// Runs a statement and discards any result.
    public func execute(_ sql: String) throws {
        try run(sql)
        if let result = mysql_store_result(handle) { mysql_free_result(result) }
    }

    /// Runs a statement given as bytes (large multi-row inserts) and returns the affected rows.
    @discardableResult
    public func execute(bytes: [UInt8]) throws -> UInt64 {
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                mysql_real_query(handle, $0, UInt(buffer.count))
            }
        }
        if status != 0 { throw currentError(statement: nil) }
        return mysql_affected_rows(handle)
    }

    /// Runs a query and returns all rows as text (nil for NULL).
    public func query(_ sql: String) throws -> [[String?]] {
        var rows: [[String?]] = []
        try stream(sql) { fields in
            rows.append(fields.map { $0.map { String(decoding: $0, as: UTF8.self) } })
        }
        return rows
    }

    /// Runs a query and hands each row's raw fields to `row` as they arrive, without buffering the result.
    public func stream(_ sql: String, row: ([UnsafeBufferPointer<UInt8>?]) throws -> Void) throws {
        try run(sql)
        guard let result = mysql_use_result(handle) else {
            if mysql_errno(handle) != 0 { throw currentError(statement: sql) }
            return
        }
        defer { mysql_free_result(result) }
        let count = Int(mysql_num_fields(result))
        var fields = [UnsafeBufferPointer<UInt8>?](repeating: nil, count: count)
        var callbackError: Error?
        while let values = mysql_fetch_row(result) {
            guard callbackError == nil else { continue }
            let lengths = mysql_fetch_lengths(result)!
            for i in 0..<count {
                if let pointer = values[i] {
                    fields[i] = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self),
                                                    count: Int(lengths[i]))
                } else {
                    fields[i] = nil
                }
            }
            do { try row(fields) } catch {
                callbackError = error
                break
            }
        }
        if let callbackError { throw callbackError }
        if mysql_errno(handle) != 0 { throw currentError(statement: sql) }
    }

    /// The server's warnings for the last statement, as text.
    public func warnings() throws -> [String] {
        try query("SHOW WARNINGS").map { "\($0[0] ?? "") \($0[1] ?? ""): \($0[2] ?? "")" }
    }

    private func run(_ sql: String) throws {
        let status = sql.withCString { mysql_real_query(handle, $0, UInt(strlen($0))) }
        if status != 0 { throw currentError(statement: sql) }
    }

    private func currentError(statement: String?) -> FerryError {
        let code = mysql_errno(handle)
        let message = "MySQL \(location): \(String(cString: mysql_error(handle))) (error \(code))"
        switch code {
        case 1264, 1265, 1292, 1366, 1406, 1048, 1062, 1452, 3140, 4025: return FerryError(.dataError, message)
        case 1049, 1146, 1054: return FerryError(.notFound, message)
        case 2002, 2003, 2005, 2006, 2013, 1045: return FerryError(.connectionFailed, message)
        case 1317: return FerryError(.cancelled, message)
        default: return FerryError(.database, message)
        }
    }

    /// `name` quoted as a MySQL identifier.
    public static func quote(_ name: String) -> String {
        "`" + name.replacingOccurrences(of: "`", with: "``") + "`"
    }

    /// `table` as a database-qualified, quoted name.
    public static func quote(_ table: TableID) -> String {
        quote(table.schema) + "." + quote(table.name)
    }

    /// `text` as a MySQL string literal.
    public static func literal(_ text: String) -> String {
        var out: [UInt8] = [UInt8(ascii: "'")]
        MySQLLiteral.appendEscaped(text.utf8, to: &out)
        out.append(UInt8(ascii: "'"))
        return String(decoding: out, as: UTF8.self)
    }
}
