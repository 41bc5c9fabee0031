import FerryCore

/// Where a MySQL/MariaDB target puts the tables it loads (DMS `MySQLSettings.TargetDbType`), from the
/// target URL's `target_db_type` parameter.
public enum MySQLTargetDatabases: Sendable, Equatable {
    /// Each source schema becomes a database of the same name (DMS `multiple-databases`, the default).
    case multiple
    /// Every table goes into this one database, the URL's (DMS `specific-database`).
    case specific(String)

    /// The URL parameter that chooses.
    public static let parameter = "target_db_type"

    /// Reads the choice from a target URL: `multiple-databases` or `specific-database` (any case, `_` or
    /// `-`); a specific database needs the URL's database.
    public init(_ url: ConnectionURL) throws(FerryError) {
        let given = url.parameters[Self.parameter]
        switch given?.lowercased().replacingOccurrences(of: "_", with: "-") {
        case nil, "multiple-databases":
            self = .multiple
        case "specific-database":
            guard let database = url.database, !database.isEmpty else {
                throw FerryError.invalidParameter(Self.parameter, "specific-database puts every table into the target URL's database, and \(url) names none")
            }
            self = .specific(database)
        default:
            throw FerryError.invalidParameter(Self.parameter, "'\(given!)' is not one of multiple-databases, specific-database")
        }
    }

    /// Where `table` goes.
    func place(_ table: TableID) -> TableID {
        switch self {
        case .multiple: table
        case let .specific(database): TableID(schema: database, name: table.name)
        }
    }
}
