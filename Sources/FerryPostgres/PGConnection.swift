import Foundation
import CLibPQ
import FerryCore

/// One libpq connection. Blocking; use it from one thread at a time.
public final class PGConnection: @unchecked Sendable {
    let handle: OpaquePointer
    /// `host:port/database`, for messages.
    public let location: String

    /// Session settings that make every value's text form canonical: ISO dates, ISO 8601 intervals,
    /// UTC timestamps, round-trip floats, hex bytea. Notices ("already exists, skipping") are not sent:
    /// libpq would print each one on standard error.
    static let sessionOptions = "-c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c TimeZone=UTC -c extra_float_digits=3 -c bytea_output=hex -c client_min_messages=warning"

    /// Connects with the canonical session settings; with `replication`, as a logical replication
    /// connection (`replication=database`), which also runs plain SQL. `settings` are libpq connection
    /// parameters that replace the defaults of the same name.
    public init(_ url: ConnectionURL, replication: Bool = false, settings: [(String, String)] = []) throws {
        location = url.location
        var params: [(String, String)] = [
            ("host", url.host),
            ("dbname", url.database ?? "postgres"),
            ("user", url.user ?? "postgres"),
            ("application_name", "ferry"),
            ("client_encoding", "UTF8"),
            ("connect_timeout", url.parameters["connect_timeout"] ?? "10"),
            ("options", Self.sessionOptions),
        ]
        if let port = url.port { params.append(("port", String(port))) }
        if replication { params.append(("replication", "database")) }
        if let password = url.password { params.append(("password", password)) }
        if let mode = url.parameters["sslmode"] { params.append(("sslmode", mode == "none" ? "disable" : mode)) }
        if let rootCertificate = url.parameters["sslrootcert"] { params.append(("sslrootcert", rootCertificate)) }
        for (key, value) in settings {
            params.removeAll { $0.0 == key }
            params.append((key, value))
        }
        let keys = params.map { strdup($0.0) }
        let values = params.map { strdup($0.1) }
        defer { keys.forEach { free($0) }; values.forEach { free($0) } }
        var keyPointers: [UnsafePointer<CChar>?] = keys.map { UnsafePointer($0) } + [nil]
        var valuePointers: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        guard let conn = PQconnectdbParams(&keyPointers, &valuePointers, 0) else {
            throw FerryError(.connectionFailed, "PostgreSQL \(location): out of memory while connecting")
        }
        handle = conn
        if PQstatus(conn) != CONNECTION_OK {
            // Every stored property is set, so deinit runs after this throw and closes the handle.
            let message = Self.trimmed(String(cString: PQerrorMessage(conn)))
            throw FerryError(.connectionFailed, "PostgreSQL \(location): \(message)")
        }
    }

    deinit { PQfinish(handle) }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result, sql: sql)
    }

    /// Runs a query and returns every row as text (nil for NULL).
    public func query(_ sql: String) throws -> [[String?]] {
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result, sql: sql)
        let rows = PQntuples(result), columns = PQnfields(result)
        var out: [[String?]] = []
        out.reserveCapacity(Int(rows))
        for r in 0..<rows {
            var row: [String?] = []
            row.reserveCapacity(Int(columns))
            for c in 0..<columns {
                row.append(PQgetisnull(result, r, c) == 1 ? nil : String(cString: PQgetvalue(result, r, c)))
            }
            out.append(row)
        }
        return out
    }

    /// What a statement with parameters returned: its column names, its rows as text (nil for NULL) and
    /// how many rows it changed.
    public struct Outcome: Sendable {
        public var columns: [String]
        public var rows: [[String?]]
        public var affected: Int
    }

    /// Runs one statement with `$1`, `$2`… bound to `parameters` as text (nil for NULL); the server infers
    /// each parameter's type from where it stands.
    public func run(_ sql: String, parameters: [String?]) throws -> Outcome {
        let copies: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.flatMap { strdup($0) } }
        defer { copies.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        let result = PQexecParams(handle, sql, Int32(pointers.count), nil, pointers, nil, nil, 0)
        defer { PQclear(result) }
        try check(result, sql: sql)
        let columns = (0..<PQnfields(result)).map { String(cString: PQfname(result, $0)) }
        var rows: [[String?]] = []
        for r in 0..<PQntuples(result) {
            rows.append((0..<Int32(columns.count)).map { c in
                PQgetisnull(result, r, c) == 1 ? nil : String(cString: PQgetvalue(result, r, c))
            })
        }
        return Outcome(columns: columns, rows: rows, affected: Int(String(cString: PQcmdTuples(result))) ?? 0)
    }

    /// Whether the connection is still open (false once the server closed it or the network broke).
    public var isOpen: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Runs `COPY … TO STDOUT` and hands each data row (with its trailing newline) to `row`.
    public func copyOut(_ sql: String, row: (UnsafeRawBufferPointer) throws -> Void) throws {
        try startCopyOut(sql)
        var callbackError: Error?
        do {
            while try readCopyRow(of: sql, { bytes in
                guard callbackError == nil else { return }
                do { try row(bytes) } catch {
                    callbackError = error
                    _ = PQrequestCancel(handle)
                }
            }) != nil {}
        } catch {
            // A COPY cancelled because `row` failed ends with the server's "canceling statement": the
            // callback's error is the one that says why.
            throw callbackError ?? error
        }
        if let callbackError { throw callbackError }
    }

    /// Starts `COPY … TO STDOUT`; `readCopyRow` then reads its rows one at a time.
    func startCopyOut(_ sql: String) throws {
        let start = PQexec(handle, sql)
        defer { PQclear(start) }
        guard PQresultStatus(start) == PGRES_COPY_OUT else {
            try check(start, sql: sql)
            throw FerryError(.database, "PostgreSQL \(location): \(sql) did not start a COPY")
        }
    }

    /// Hands the COPY's next row to `body` (the bytes live only during the call) and returns what it
    /// returns; nil once the COPY has ended, after the server said how it ended.
    func readCopyRow<Result>(of sql: String, _ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result? {
        var buffer: UnsafeMutablePointer<CChar>?
        let length = PQgetCopyData(handle, &buffer, 0)
        if length > 0, let buffer {
            defer { PQfreemem(buffer) }
            return try body(UnsafeRawBufferPointer(start: buffer, count: Int(length)))
        }
        guard length == -1 else {
            throw FerryError(.database, "PostgreSQL \(location): \(Self.trimmed(String(cString: PQerrorMessage(handle))))")
        }
        var failure: Error?
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            do { try check(result, sql: sql) } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
        return nil
    }

    /// Runs `COPY … FROM STDIN`; `feed` receives a function that sends bytes. Returns the rows copied.
    @discardableResult
    public func copyIn(_ sql: String, feed: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> Int64 {
        let start = PQexec(handle, sql)
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            defer { PQclear(start) }
            try check(start, sql: sql)
            throw FerryError(.database, "PostgreSQL \(location): \(sql) did not start a COPY")
        }
        PQclear(start)
        var feedError: Error?
        do {
            try feed { bytes in
                guard let base = bytes.baseAddress, bytes.count > 0 else { return }
                if PQputCopyData(self.handle, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count)) != 1 {
                    throw FerryError(.database, "PostgreSQL \(self.location): \(Self.trimmed(String(cString: PQerrorMessage(self.handle))))")
                }
            }
        } catch {
            feedError = error
        }
        _ = PQputCopyEnd(handle, feedError == nil ? nil : "ferry aborted the load")
        var copied: Int64 = 0
        var serverError: Error?
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            do {
                try check(result, sql: sql)
                copied = Int64(String(cString: PQcmdTuples(result))) ?? copied
            } catch {
                if serverError == nil { serverError = error }
            }
        }
        if let feedError { throw feedError }
        if let serverError { throw serverError }
        return copied
    }

    func check(_ result: OpaquePointer?, sql: String) throws {
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_COPY_OUT, PGRES_COPY_IN, PGRES_COPY_BOTH, PGRES_EMPTY_QUERY:
            return
        default:
            // A connection that is gone (the server restarted, the network broke) is worth connecting again.
            let lost = PQstatus(handle) == CONNECTION_BAD
            guard let result else {
                throw FerryError(lost ? .connectionFailed : .database, "PostgreSQL \(location): \(Self.trimmed(String(cString: PQerrorMessage(handle))))")
            }
            // A server that reported an error of its own (other than shutting down) and then closed the
            // connection will report it again: that is not a connection to retry.
            let report = PGServerError(result: result, location: location)
            let error = report.ferryError
            throw lost && report.sqlState.isEmpty ? FerryError(.connectionFailed, error.message) : error
        }
    }

    static func trimmed(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\n", with: "; ")
    }

    /// `name` quoted as a PostgreSQL identifier.
    public static func quote(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `table` as a schema-qualified, quoted name.
    public static func quote(_ table: TableID) -> String {
        quote(table.schema) + "." + quote(table.name)
    }

    /// `text` as a PostgreSQL string literal.
    public static func literal(_ text: String) -> String {
        literal(utf8: text.utf8)
    }

    /// UTF-8 text as a PostgreSQL string literal, built byte by byte (quotes doubled; backslashes are plain
    /// characters with standard_conforming_strings, PostgreSQL's default since 9.1).
    public static func literal<Bytes: Sequence<UInt8>>(utf8 bytes: Bytes) -> String {
        var out: [UInt8] = [0x27]
        out.reserveCapacity(bytes.underestimatedCount + 2)
        for byte in bytes {
            out.append(byte)
            if byte == 0x27 { out.append(0x27) }
        }
        out.append(0x27)
        return String(decoding: out, as: UTF8.self)
    }
}

/// The fields of a PostgreSQL error report.
struct PGServerError {
    let sqlState: String
    let message: String
    let detail: String?
    let context: String?

    init(result: OpaquePointer, location: String) {
        func field(_ code: Int32) -> String? {
            guard let value = PQresultErrorField(result, code) else { return nil }
            return String(cString: value)
        }
        sqlState = field(Int32(UInt8(ascii: "C"))) ?? ""
        let primary = field(Int32(UInt8(ascii: "M"))) ?? PGConnection.trimmed(String(cString: PQresultErrorMessage(result)))
        message = "PostgreSQL \(location): \(primary)"
        detail = field(Int32(UInt8(ascii: "D")))
        context = field(Int32(UInt8(ascii: "W")))
    }

    var ferryError: FerryError {
        var text = message
        if let detail { text += " (\(detail))" }
        if let context { text += " [\(PGConnection.trimmed(context))]" }
        let kind: FerryError.Kind
        switch sqlState.prefix(2) {
        case "22", "23": kind = .dataError
        case "42" where sqlState == "42P01" || sqlState == "3F000": kind = .notFound
        case "3F": kind = .notFound
        case "FY" where sqlState == PostgresApplier.fencedState: kind = .fenced
        case "57" where sqlState == "57014": kind = .cancelled
        // The server shut down, is shutting down or is starting: worth connecting again.
        case "57" where ["57P01", "57P02", "57P03"].contains(sqlState): kind = .connectionFailed
        case "08": kind = .connectionFailed
        default: kind = .database
        }
        return FerryError(kind, text)
    }
}
