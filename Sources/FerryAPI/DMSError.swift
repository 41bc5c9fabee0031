/// An error the API returns as HTTP 400 `{"__type": type, "message": message}`, with AWS's type names.
public struct DMSError: Error, Sendable, Equatable, CustomStringConvertible {
    public var type: String
    public var message: String

    public init(_ type: String, _ message: String) {
        self.type = type
        self.message = message
    }

    public var description: String { "\(type): \(message)" }

    public static func invalidParameter(_ message: String) -> DMSError { DMSError("InvalidParameterValueException", message) }
    public static func notFound(_ message: String) -> DMSError { DMSError("ResourceNotFoundFault", message) }
    public static func alreadyExists(_ message: String) -> DMSError { DMSError("ResourceAlreadyExistsFault", message) }
    public static func invalidState(_ message: String) -> DMSError { DMSError("InvalidResourceStateFault", message) }
    public static func incompleteSignature(_ message: String) -> DMSError { DMSError("IncompleteSignature", message) }
    public static func unrecognizedClient(_ message: String) -> DMSError { DMSError("UnrecognizedClientException", message) }
    public static func invalidSignature(_ message: String) -> DMSError { DMSError("InvalidSignatureException", message) }
}
