import FerryCore
import Foundation

/// The engines an endpoint may name, and how an endpoint becomes a connection URL.
enum EndpointModel {
    /// DMS engine names Ferry accepts, with their display names and Ferry engine.
    static let engines: [(name: String, display: String, engine: EngineKind)] = [
        ("postgres", "PostgreSQL", .postgres),
        ("aurora-postgresql", "Amazon Aurora PostgreSQL", .postgres),
        ("mysql", "MySQL", .mysql),
        ("mariadb", "MariaDB", .mysql),
        ("aurora", "Amazon Aurora MySQL", .mysql),
        ("sqlite", "SQLite", .sqlite),
    ]

    static func engine(named name: String) throws -> (name: String, display: String, engine: EngineKind) {
        guard let found = engines.first(where: { $0.name == name.lowercased() }) else {
            throw DMSError.invalidParameter("EngineName '\(name)' is not supported by Ferry; use one of \(engines.map(\.name).joined(separator: ", ")).")
        }
        return found
    }

    /// The engine settings Ferry honours, as DescribeEndpointSettings lists them (``url(for:password:rootCertificate:)`` applies them).
    static func honoredSettings(_ engine: EngineKind) -> [EndpointSetting] {
        switch engine {
        case .postgres:
            return [
                EndpointSetting(Name: "slotName", TypeName: "string", Applicability: "source"),
                EndpointSetting(Name: "heartbeatEnable", TypeName: "boolean", Applicability: "source", DefaultValue: "false"),
                EndpointSetting(Name: "heartbeatFrequency", TypeName: "integer", Units: "minutes", Applicability: "source", IntValueMin: 1,
                                DefaultValue: String(defaultHeartbeatMinutes)),
                EndpointSetting(Name: "heartbeatSchema", TypeName: "string", Applicability: "source", DefaultValue: "public"),
            ]
        case .mysql:
            return [EndpointSetting(Name: "targetDbType", TypeName: "enum", EnumValues: targetDbTypes, Applicability: "target", DefaultValue: targetDbTypes[0])]
        case .sqlite:
            return []
        }
    }

    /// How often the heartbeat writes when HeartbeatEnable gives no HeartbeatFrequency (DMS's default).
    static let defaultHeartbeatMinutes = 5

    static let sslModes = ["none", "require", "verify-ca", "verify-full"]
    /// The modes that check the server's certificate, against the endpoint's CertificateArn.
    static let verifyingModes = ["verify-ca", "verify-full"]
    /// DMS's `MySQLSettings.TargetDbType` values.
    static let targetDbTypes = ["multiple-databases", "specific-database"]

    /// Checks the fields an endpoint is created or modified with. What DMS lets come later (a PostgreSQL
    /// or MySQL server's name, PostgreSQL's database) is checked when Ferry connects (``url(for:password:rootCertificate:)``).
    static func validate(_ endpoint: Endpoint) throws {
        let engine = try engine(named: endpoint.EngineName ?? "")
        if let mode = endpoint.SslMode, !sslModes.contains(mode) {
            throw DMSError.invalidParameter("SslMode '\(mode)' is not one of \(sslModes.joined(separator: ", ")).")
        }
        if let mode = endpoint.SslMode, verifyingModes.contains(mode), engine.engine != .sqlite, endpoint.CertificateArn?.isEmpty ?? true {
            throw DMSError("InvalidParameterCombinationException",
                           "SslMode \(mode) needs CertificateArn: the certificate authority the server's certificate is checked against (ImportCertificate).")
        }
        if let port = endpoint.Port, !(1...65535).contains(port) {
            throw DMSError.invalidParameter("Port must be between 1 and 65535; got \(port).")
        }
        if let type = endpoint.MySQLSettings?.TargetDbType {
            guard targetDbTypes.contains(type) else {
                throw DMSError.invalidParameter("MySQLSettings.TargetDbType '\(type)' is not one of \(targetDbTypes.joined(separator: ", ")).")
            }
            if type == "specific-database", endpoint.DatabaseName?.isEmpty ?? true {
                throw DMSError.invalidParameter("MySQLSettings.TargetDbType specific-database needs DatabaseName: every table goes into that database.")
            }
        }
        if engine.engine == .sqlite, endpoint.DatabaseName?.isEmpty ?? true {
            throw DMSError.invalidParameter("DatabaseName is required for a sqlite endpoint: it is the database file's path.")
        }
    }

    /// What a server endpoint needs before Ferry can connect to it.
    static func checkConnectable(_ endpoint: Endpoint, _ engine: (name: String, display: String, engine: EngineKind)) throws {
        let name = endpoint.EndpointIdentifier ?? ""
        guard let server = endpoint.ServerName, !server.isEmpty else {
            throw DMSError.invalidParameter("Endpoint \(name) has no ServerName: a \(engine.name) endpoint needs one to connect (ModifyEndpoint sets it).")
        }
        if engine.engine == .postgres, endpoint.DatabaseName?.isEmpty ?? true {
            throw DMSError.invalidParameter("Endpoint \(name) has no DatabaseName: a \(engine.name) endpoint needs one to connect (ModifyEndpoint sets it).")
        }
    }

    /// The URL Ferry connects with; `password` is the decrypted secret, `rootCertificate` the file holding
    /// the endpoint's CertificateArn.
    static func url(for endpoint: Endpoint, password: String?, rootCertificate: String?) throws -> ConnectionURL {
        let named = try engine(named: endpoint.EngineName ?? "")
        let engine = named.engine
        if engine != .sqlite { try checkConnectable(endpoint, named) }
        switch engine {
        case .sqlite:
            return ConnectionURL(engine: .sqlite, host: "", database: endpoint.DatabaseName)
        case .postgres, .mysql:
            var parameters: [String: String] = [:]
            if let mode = endpoint.SslMode { parameters["sslmode"] = mode == "none" ? "disable" : mode }
            parameters["sslrootcert"] = rootCertificate
            parameters["target_db_type"] = endpoint.MySQLSettings?.TargetDbType
            if let settings = endpoint.PostgreSQLSettings {
                parameters["slot_name"] = settings.SlotName
                if settings.HeartbeatEnable == true {
                    parameters["heartbeat_seconds"] = String(max(1, settings.HeartbeatFrequency ?? defaultHeartbeatMinutes) * 60)
                    parameters["heartbeat_schema"] = settings.HeartbeatSchema
                }
            }
            return ConnectionURL(engine: engine, user: endpoint.Username, password: password, host: endpoint.ServerName ?? "",
                                 port: endpoint.Port ?? (engine == .postgres ? 5432 : 3306),
                                 database: endpoint.DatabaseName?.isEmpty == false ? endpoint.DatabaseName : nil,
                                 parameters: parameters)
        }
    }
}
