import Foundation

/// A database location as given on the command line:
/// `postgres://user:pw@host:5432/db?sslmode=require`, `mysql://root@127.0.0.1:3306/shop`,
/// `sqlite:///abs/path.db` or `sqlite:relative.db`.
public struct ConnectionURL: Sendable, Equatable, CustomStringConvertible {
    public var engine: EngineKind
    public var user: String?
    public var password: String?
    public var host: String
    public var port: Int?
    /// The database name; for SQLite, the file path.
    public var database: String?
    /// Query parameters such as `sslmode`.
    public var parameters: [String: String]

    public init(engine: EngineKind, user: String? = nil, password: String? = nil, host: String = "127.0.0.1",
                port: Int? = nil, database: String? = nil, parameters: [String: String] = [:]) {
        self.engine = engine
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
        self.parameters = parameters
    }

    private static let schemes: [String: EngineKind] = [
        "postgres": .postgres, "postgresql": .postgres,
        "mysql": .mysql, "mariadb": .mysql,
        "sqlite": .sqlite, "sqlite3": .sqlite,
    ]

    /// Parses a URL; `field` names the flag or setting in error messages.
    public static func parse(_ text: String, field: String = "url") throws -> ConnectionURL {
        guard let colon = text.firstIndex(of: ":") else {
            throw FerryError.invalidParameter(field, "'\(text)' is not a URL; expected e.g. postgres://user@host:5432/db")
        }
        let scheme = text[..<colon].lowercased()
        guard let engine = schemes[scheme] else {
            throw FerryError.invalidParameter(field, "unknown scheme '\(scheme)'; use postgres://, postgresql://, mysql://, mariadb:// or sqlite://")
        }
        if engine == .sqlite { return try parseSQLite(text, after: colon, field: field) }
        guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
            throw FerryError.invalidParameter(field, "'\(redact(text))' has no host; expected \(scheme)://user@host:port/database")
        }
        var url = ConnectionURL(engine: engine, host: host)
        url.user = components.user?.removingPercentEncoding ?? components.user
        url.password = components.password?.removingPercentEncoding ?? components.password
        url.port = components.port
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        url.database = path.isEmpty ? nil : (path.removingPercentEncoding ?? path)
        for item in components.queryItems ?? [] {
            url.parameters[item.name] = item.value ?? ""
        }
        if let mode = url.parameters["sslmode"] {
            let allowed = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full", "none"]
            guard allowed.contains(mode) else {
                throw FerryError.invalidParameter(field, "sslmode '\(mode)' is not one of \(allowed.joined(separator: ", "))")
            }
        }
        if let authority = url.parameters["sslrootcert"], !FileManager.default.isReadableFile(atPath: authority) {
            throw FerryError.invalidParameter(field, "sslrootcert '\(authority)' is not a readable file (the certificate authority, in PEM)")
        }
        return url
    }

    private static func parseSQLite(_ text: String, after colon: String.Index, field: String) throws -> ConnectionURL {
        var rest = String(text[text.index(after: colon)...])
        if rest.hasPrefix("//") { rest.removeFirst(2) }
        if let q = rest.firstIndex(of: "?") { rest = String(rest[..<q]) }
        guard !rest.isEmpty else {
            throw FerryError.invalidParameter(field, "sqlite URL needs a file path, e.g. sqlite:///data/app.db")
        }
        return ConnectionURL(engine: .sqlite, host: "", database: rest.removingPercentEncoding ?? rest)
    }

    /// The URL with its password replaced by `***`, safe for logs and messages.
    public var description: String {
        if engine == .sqlite { return "sqlite://\(database ?? "")" }
        var out = "\(engine == .postgres ? "postgres" : "mysql")://"
        if let user { out += user + (password == nil ? "" : ":***") + "@" }
        out += host
        if let port { out += ":\(port)" }
        if let database { out += "/\(database)" }
        return out
    }

    /// `host:port/database` for messages that say where something happened.
    public var location: String {
        if engine == .sqlite { return database ?? "" }
        return "\(host)\(port.map { ":\($0)" } ?? "")\(database.map { "/\($0)" } ?? "")"
    }

    private static func redact(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let schemeEnd = text.range(of: "://") else { return text }
        let credentials = text[schemeEnd.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}
