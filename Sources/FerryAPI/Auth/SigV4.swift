import Crypto
import Foundation

/// Verifies AWS Signature Version 4 on a request (header form), as a pure function of the request,
/// the clock and the key store.
public struct SigV4Verifier: Sendable {
    /// The principal of a verified request.
    public struct Identity: Sendable, Equatable {
        public var accessKeyID: String
        public var region: String
    }

    public var service: String
    /// How far the request's time may be from the server's.
    public var allowedSkew: TimeInterval

    public init(service: String = "dms", allowedSkew: TimeInterval = 300) {
        self.service = service
        self.allowedSkew = allowedSkew
    }

    /// Checks the request's signature; `secretFor` returns the secret of an access key id, or nil when unknown.
    /// `headers` are (name, value) pairs as received; `path` and `query` are the raw request target parts.
    public func verify(method: String, path: String, query: String, headers: [(String, String)], body: [UInt8],
                       now: Date, secretFor: (String) throws -> String?) throws -> Identity {
        var byName: [String: [String]] = [:]
        for (name, value) in headers { byName[name.lowercased(), default: []].append(value) }
        guard let authorization = byName["authorization"]?.first else {
            throw DMSError.incompleteSignature("Request is missing Authentication Token")
        }
        let auth = try parseAuthorization(authorization)
        guard let amzDate = byName["x-amz-date"]?.first ?? byName["date"]?.first, let requestTime = Self.parseAmzDate(amzDate) else {
            throw DMSError.incompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        }
        let scope = auth.credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, scope[4] == "aws4_request", scope[3] == service, !scope[2].isEmpty, scope[1] == String(amzDate.prefix(8)) else {
            throw DMSError.incompleteSignature("Credential should be scoped to a valid region and service '\(service)': \(auth.credential)")
        }
        if abs(requestTime.timeIntervalSince(now)) > allowedSkew {
            throw DMSError.invalidSignature("Signature expired: \(amzDate) is now earlier or later than the allowed 5 minutes of the server time \(Self.formatAmzDate(now)).")
        }
        guard let secret = try secretFor(scope[0]) else {
            throw DMSError.unrecognizedClient("The security token included in the request is invalid.")
        }
        for name in auth.signedHeaders where byName[name] == nil {
            throw DMSError.incompleteSignature("Signed header '\(name)' is missing from the request.")
        }
        let canonicalHeaders = auth.signedHeaders.map { name in
            name + ":" + byName[name]!.map(Self.trimmed).joined(separator: ",") + "\n"
        }.joined()
        let payloadHash = byName["x-amz-content-sha256"]?.first ?? Self.hex(SHA256.hash(data: body))
        let canonicalRequest = [method, Self.canonicalURI(path), Self.canonicalQuery(query), canonicalHeaders,
                                auth.signedHeaders.joined(separator: ";"), payloadHash].joined(separator: "\n")
        let expected = Self.signature(canonicalRequest: canonicalRequest, amzDate: amzDate, scope: Array(scope[1...]), secret: secret)
        guard let given = Self.unhex(auth.signature), given.count == expected.count, Self.constantTimeEqual(given, expected) else {
            throw DMSError.invalidSignature("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
        }
        return Identity(accessKeyID: scope[0], region: scope[2])
    }

    /// The signature of a canonical request: `scope` is date, region, service and `aws4_request`.
    static func signature(canonicalRequest: String, amzDate: String, scope: [String], secret: String) -> Data {
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope.joined(separator: "/"),
                            hex(SHA256.hash(data: Data(canonicalRequest.utf8)))].joined(separator: "\n")
        var key = SymmetricKey(data: Data(("AWS4" + secret).utf8))
        for part in scope {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return Data(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
    }

    struct Authorization {
        var credential: String
        var signedHeaders: [String]
        var signature: String
    }

    func parseAuthorization(_ header: String) throws -> Authorization {
        let prefix = "AWS4-HMAC-SHA256 "
        guard header.hasPrefix(prefix) else {
            throw DMSError.incompleteSignature("Authorization header must use AWS4-HMAC-SHA256.")
        }
        var fields: [String: String] = [:]
        for part in header.dropFirst(prefix.count).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { fields[pair[0]] = pair[1] }
        }
        guard let credential = fields["Credential"], let signed = fields["SignedHeaders"], let signature = fields["Signature"] else {
            throw DMSError.incompleteSignature("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.")
        }
        return Authorization(credential: credential, signedHeaders: signed.split(separator: ";").map { $0.lowercased() }, signature: signature)
    }

    static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    static func canonicalURI(_ path: String) -> String {
        path.isEmpty ? "/" : path
    }

    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        return query.split(separator: "&").map { pair -> (String, String) in
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            return (kv[0], kv.count > 1 ? kv[1] : "")
        }.sorted { $0 < $1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// The `X-Amz-Date` format, `20261122T115634Z`.
    private static func amzDateFormatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter
    }

    static func parseAmzDate(_ text: String) -> Date? {
        amzDateFormatter().date(from: text)
    }

    static func formatAmzDate(_ date: Date) -> String {
        amzDateFormatter().string(from: date)
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    static func unhex(_ text: String) -> Data? {
        guard text.count % 2 == 0 else { return nil }
        var data = Data(capacity: text.count / 2)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            data.append(byte)
            index = next
        }
        return data
    }

    /// Compares two equal-length byte strings in time independent of where they differ.
    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0 && a.count == b.count
    }
}
