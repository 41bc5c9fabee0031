@testable import FerryAPI
import Crypto
import FerryCatalog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Signs requests the way an AWS SDK does (SigV4, service dms).
struct TestSigner {
    var accessKeyID: String
    var secret: String
    var region = "us-east-1"

    func headers(operation: String, body: [UInt8], date: Date = Date()) -> HTTPFields {
        let amzDate = SigV4Verifier.formatAmzDate(date)
        let day = String(amzDate.prefix(8))
        let target = DMSJSON.targetPrefix + operation
        let signed = [("content-type", "application/x-amz-json-1.1"), ("host", "ferry.test"), ("x-amz-date", amzDate), ("x-amz-target", target)]
        let canonical = ["POST", "/", "", signed.map { "\($0.0):\($0.1)\n" }.joined(), signed.map(\.0).joined(separator: ";"),
                         SigV4Verifier.hex(SHA256.hash(data: body))].joined(separator: "\n")
        let scope = "\(day)/\(region)/dms/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, SigV4Verifier.hex(SHA256.hash(data: Data(canonical.utf8)))].joined(separator: "\n")
        var key = SymmetricKey(data: Data(("AWS4" + secret).utf8))
        for part in [day, region, "dms", "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = SigV4Verifier.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
        var fields = HTTPFields()
        fields[.contentType] = "application/x-amz-json-1.1"
        fields[HTTPField.Name("Host")!] = "ferry.test"
        fields[HTTPField.Name("X-Amz-Date")!] = amzDate
        fields[HTTPField.Name("X-Amz-Target")!] = target
        fields[.authorization] = "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(signed.map(\.0).joined(separator: ";")), Signature=\(signature)"
        return fields
    }
}

/// A server's catalog in a temporary folder, with one admin key.
struct APIFixture {
    let directory: URL
    let catalog: Catalog
    let service: DMSService
    let signer: TestSigner

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-api-\(UUID().uuidString)")
        catalog = try Catalog(directory: directory)
        let pair = Catalog.generateKeyPair()
        try catalog.addCredential(accessKeyID: pair.accessKeyID, secretAccessKey: pair.secretAccessKey)
        signer = TestSigner(accessKeyID: pair.accessKeyID, secret: pair.secretAccessKey)
        service = DMSService(catalog: catalog, accountID: "123456789012")
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// Runs `body` against the application through Hummingbird's router test client (no socket).
    func withClient(_ body: @escaping @Sendable (APIClient) async throws -> Void) async throws {
        let app = try buildApplication(service: service, catalog: catalog)
        let signer = self.signer
        try await app.test(.router) { client in try await body(APIClient(client: client, signer: signer)) }
    }
}

/// What an API call returned.
struct APIResult: @unchecked Sendable {
    var status: HTTPResponse.Status
    var json: [String: Any]
    var raw: String

    var errorType: String? { json["__type"] as? String }
    var message: String { json["message"] as? String ?? "" }

    subscript(path: String...) -> Any? {
        var value: Any? = json
        for key in path { value = (value as? [String: Any])?[key] }
        return value
    }
}

struct APIClient: Sendable {
    let client: any TestClientProtocol
    let signer: TestSigner

    /// Calls an operation with a signed request; `headers` replaces the signed ones when given.
    func call(_ operation: String, _ input: [String: Any] = [:], signer override: TestSigner? = nil,
              headers: HTTPFields? = nil, rawBody: String? = nil) async throws -> APIResult {
        let encoded = try JSONSerialization.data(withJSONObject: input)
        let body = Array((rawBody ?? String(decoding: encoded, as: UTF8.self)).utf8)
        let fields = headers ?? (override ?? signer).headers(operation: operation, body: body)
        return try await client.execute(uri: "/", method: .post, headers: fields, body: ByteBuffer(bytes: body)) { response in
            let text = String(buffer: response.body)
            let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            return APIResult(status: response.status, json: json, raw: text)
        }
    }

    /// Calls an operation for its answer, error or not; a transport failure is recorded as a test issue.
    func result(_ operation: String, _ input: [String: Any] = [:]) async -> APIResult {
        do { return try await call(operation, input) } catch {
            Issue.record("\(operation) could not be called: \(error)")
            return APIResult(status: .internalServerError, json: [:], raw: "")
        }
    }

    /// Calls an operation that must succeed.
    func ok(_ operation: String, _ input: [String: Any] = [:], sourceLocation: SourceLocation = #_sourceLocation) async throws -> APIResult {
        let result = try await call(operation, input)
        #expect(result.status == .ok, "\(operation): \(result.raw)", sourceLocation: sourceLocation)
        return result
    }
}
