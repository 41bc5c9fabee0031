import Foundation

/// A request or response shape of the DMS API, with the members the model requires.
public protocol DMSShape: Codable, Sendable, Equatable {
    static var requiredMembers: [String] { get }
}

/// The JSON 1.1 wire format: epoch-second timestamps, required members checked with AWS's messages.
enum DMSJSON {
    static let targetPrefix = "AmazonDMSv20160101."

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// Decodes a request body, naming the member and the problem when it does not fit the shape.
    static func decode<T: DMSShape>(_ type: T.Type, from body: Data) throws -> T {
        let text = body.isEmpty ? Data("{}".utf8) : body
        guard let object = try? JSONSerialization.jsonObject(with: text) as? [String: Any] else {
            throw DMSError("SerializationException", "The request body is not a JSON object.")
        }
        for member in T.requiredMembers where object[member] == nil || object[member] is NSNull {
            throw DMSError.invalidParameter("The request must contain the parameter \(member).")
        }
        do {
            return try decoder.decode(T.self, from: text)
        } catch let DecodingError.typeMismatch(expected, context) {
            throw DMSError("SerializationException", "\(path(context)): expected \(name(of: expected)).")
        } catch let DecodingError.valueNotFound(expected, context) {
            throw DMSError("SerializationException", "\(path(context)): expected \(name(of: expected)), got null.")
        } catch let DecodingError.dataCorrupted(context) {
            throw DMSError("SerializationException", "\(path(context)): \(context.debugDescription)")
        } catch {
            throw DMSError("SerializationException", "The request body does not match \(T.self): \(error)")
        }
    }

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        try encoder.encode(value)
    }

    private static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "an integer"
        case is Bool.Type: return "a boolean"
        case is Double.Type, is Date.Type: return "a number"
        default: return "\(type)"
        }
    }
}
