import Foundation

/// Reads one JSON object's fields with errors that name the path and the reason.
struct JSONFields {
    let object: [String: Any]
    let path: String

    init(_ value: Any?, path: String) throws {
        guard let object = value as? [String: Any] else {
            throw FerryError.invalidParameter(path, "expected an object")
        }
        self.object = object
        self.path = path
    }

    func rejectUnknownKeys(allowed: Set<String>) throws {
        for key in object.keys.sorted() where !allowed.contains(key) {
            throw FerryError.invalidParameter("\(path).\(key)", "unknown key; expected one of \(allowed.sorted().joined(separator: ", "))")
        }
    }

    func has(_ key: String) -> Bool { object[key] != nil }

    func string(_ key: String) throws -> String {
        guard let value = object[key] else { throw FerryError.invalidParameter("\(path).\(key)", "is required") }
        guard let text = value as? String else { throw FerryError.invalidParameter("\(path).\(key)", "expected a string") }
        return text
    }

    func optionalString(_ key: String) throws -> String? {
        guard object[key] != nil else { return nil }
        return try string(key)
    }

    /// A field that DMS documents as a string but that users often write as a number (rule-id, load-order).
    func stringOrNumber(_ key: String) throws -> String? {
        guard let value = object[key] else { return nil }
        if let text = value as? String { return text }
        if !JSONValue.isBoolean(value), let number = value as? NSNumber {
            return number.stringValue
        }
        throw FerryError.invalidParameter("\(path).\(key)", "expected a string or a number")
    }

    func array(_ key: String) throws -> [Any]? {
        guard let value = object[key] else { return nil }
        guard let list = value as? [Any] else { throw FerryError.invalidParameter("\(path).\(key)", "expected an array") }
        return list
    }

    /// A required list of `count` non-empty names (column or partition names), each error naming its index.
    func names(_ key: String, of what: String, count: ClosedRange<Int>) throws -> [String] {
        guard let list = try array(key), count.contains(list.count) else {
            let size = count.upperBound == Int.max ? "a list of" : "\(count.lowerBound) to \(count.upperBound)"
            throw FerryError.invalidParameter("\(path).\(key)", "is required: \(size) \(what) names")
        }
        return try list.enumerated().map { index, value in
            guard let name = value as? String, !name.isEmpty else {
                throw FerryError.invalidParameter("\(path).\(key)[\(index)]", "expected a \(what) name")
            }
            return name
        }
    }

    func child(_ key: String) throws -> JSONFields {
        guard let value = object[key] else { throw FerryError.invalidParameter("\(path).\(key)", "is required") }
        return try JSONFields(value, path: "\(path).\(key)")
    }
}
