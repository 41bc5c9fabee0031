import FerryCore
import Foundation

/// Reads the `--table-mappings` file of a command.
enum MappingsFile {
    /// The mappings in `path`, or every table when no file is given.
    static func load(_ path: String?) throws -> TableMappings {
        guard let path else { return .includeAll }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw FerryError.invalidParameter("--table-mappings", "cannot read file '\(path)'")
        }
        return try TableMappings(json: text)
    }
}
