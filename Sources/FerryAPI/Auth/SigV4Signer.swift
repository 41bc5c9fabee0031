import Crypto
import Foundation

/// Signs a request with AWS Signature Version 4 (header form), as botocore does: what `ferry cutover`
/// uses to call a Ferry server. Pure: the clock is a parameter.
public struct SigV4Signer: Sendable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var region: String
    public var service: String

    public init(accessKeyID: String, secretAccessKey: String, region: String, service: String = "dms") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.service = service
    }

    /// The headers to send with a POST of `body` to `path` on `host`: `headers` (whose names are signed)
    /// plus `host`, `x-amz-date` and `authorization`.
    public func headers(host: String, path: String, headers: [(String, String)], body: [UInt8], now: Date) -> [(String, String)] {
        let amzDate = SigV4Verifier.formatAmzDate(now)
        var all = headers.map { ($0.0.lowercased(), $0.1) } + [("host", host), ("x-amz-date", amzDate)]
        all.sort { $0.0 < $1.0 }
        let signed = all.map(\.0).joined(separator: ";")
        let canonicalHeaders = all.map { "\($0.0):\(SigV4Verifier.trimmed($0.1))\n" }.joined()
        let canonicalRequest = ["POST", SigV4Verifier.canonicalURI(path), "", canonicalHeaders, signed,
                                SigV4Verifier.hex(SHA256.hash(data: body))].joined(separator: "\n")
        let scope = [String(amzDate.prefix(8)), region, service, "aws4_request"]
        let signature = SigV4Verifier.signature(canonicalRequest: canonicalRequest, amzDate: amzDate, scope: scope, secret: secretAccessKey)
        let authorization = "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope.joined(separator: "/")), SignedHeaders=\(signed), Signature=\(SigV4Verifier.hex(signature))"
        return all + [("authorization", authorization)]
    }
}
