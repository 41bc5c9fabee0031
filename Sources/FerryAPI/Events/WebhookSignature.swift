import Crypto
import Foundation

/// Standard Webhooks' signature: `v1,` and the base64 HMAC-SHA256 of `<id>.<timestamp>.<body>` under the
/// secret (`whsec_` and base64 bytes). Pure.
struct WebhookSignature {
    /// The secret as Standard Webhooks shows it: `whsec_` and 32 random bytes in base64.
    static func newSecret() -> String {
        "whsec_" + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
    }

    static func sign(id: String, timestamp: Int, body: Data, secret: String) -> String? {
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))) else { return nil }
        var signed = Data("\(id).\(timestamp).".utf8)
        signed.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }
}
