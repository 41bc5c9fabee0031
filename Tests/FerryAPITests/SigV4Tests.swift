@testable import FerryAPI
import Foundation
import Testing

/// A request signed by botocore's own SigV4Auth (credentials below, region eu-west-1, service dms).
enum GoldenRequest {
    static let accessKey = "AKIAFERRYTESTKEY0001"
    static let secret = "ferry/Secret+Key/For/Tests/0123456789abcd"
    static let body = Array(#"{"EndpointIdentifier": "src", "EndpointType": "source", "EngineName": "postgres"}"#.utf8)
    static let signedAt = SigV4Verifier.parseAmzDate("20261122T115634Z")!
    static var headers: [(String, String)] {
        [("Host", "127.0.0.1:9600"), ("Content-Type", "application/x-amz-json-1.1"),
         ("X-Amz-Target", "AmazonDMSv20160101.CreateEndpoint"), ("X-Amz-Date", "20261122T115634Z"),
         ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAFERRYTESTKEY0001/20261122/eu-west-1/dms/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=030eea8c7db971f7c1a65d73cc57dbb7604f4a1cba6c9f2d9508d49e57ae1465")]
    }
}

@Suite struct SigV4Tests {
    let verifier = SigV4Verifier()

    func verify(headers: [(String, String)] = GoldenRequest.headers, body: [UInt8] = GoldenRequest.body,
                now: Date = GoldenRequest.signedAt, secret: String? = GoldenRequest.secret) throws -> SigV4Verifier.Identity {
        try verifier.verify(method: "POST", path: "/", query: "", headers: headers, body: body, now: now) { id in
            id == GoldenRequest.accessKey ? secret : nil
        }
    }

    @Test func acceptsBotocoresSignature() throws {
        #expect(try verify() == .init(accessKeyID: GoldenRequest.accessKey, region: "eu-west-1"))
        #expect(try verify(now: GoldenRequest.signedAt.addingTimeInterval(299)).region == "eu-west-1")
    }

    @Test func rejectsATamperedBody() {
        #expect(throws: DMSError.invalidSignature("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")) {
            try verify(body: Array(#"{"EndpointIdentifier": "evil"}"#.utf8))
        }
    }

    @Test func rejectsAWrongSecretUnknownKeyStaleTimeAndMissingHeader() {
        #expect(throws: DMSError.self) { try verify(secret: "wrong") }
        do { _ = try verify(secret: nil); Issue.record("unknown key accepted") } catch let error as DMSError {
            #expect(error.type == "UnrecognizedClientException")
        } catch { Issue.record("\(error)") }
        do { _ = try verify(now: GoldenRequest.signedAt.addingTimeInterval(301)); Issue.record("stale request accepted") } catch let error as DMSError {
            #expect(error.type == "InvalidSignatureException")
            #expect(error.message.hasPrefix("Signature expired"))
        } catch { Issue.record("\(error)") }
        do { _ = try verify(headers: GoldenRequest.headers.filter { $0.0 != "Authorization" }); Issue.record("unsigned accepted") } catch let error as DMSError {
            #expect(error.type == "IncompleteSignature")
        } catch { Issue.record("\(error)") }
        do {
            _ = try verify(headers: GoldenRequest.headers.map { $0.0 == "Authorization" ? ($0.0, "AWS4-HMAC-SHA256 Credential=x") : $0 })
            Issue.record("malformed accepted")
        } catch let error as DMSError {
            #expect(error.type == "IncompleteSignature")
        } catch { Issue.record("\(error)") }
    }
}
