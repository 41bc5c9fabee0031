@testable import FerryAPI
import Foundation
import Testing

@Suite struct SigV4SignerTests {
    let signer = SigV4Signer(accessKeyID: GoldenRequest.accessKey, secretAccessKey: GoldenRequest.secret, region: "eu-west-1")

    @Test func signsExactlyAsBotocoreDoes() {
        let headers = signer.headers(host: "127.0.0.1:9600", path: "/",
                                     headers: [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "AmazonDMSv20160101.CreateEndpoint")],
                                     body: GoldenRequest.body, now: GoldenRequest.signedAt)
        let botocore = GoldenRequest.headers.first { $0.0 == "Authorization" }!.1
        #expect(headers.first { $0.0 == "authorization" }?.1 == botocore)
    }

    @Test func theVerifierAcceptsWhatItSigns() throws {
        let body = Array(#"{"ReplicationTaskArn": "arn:aws:dms:eu-west-1:123:task:X"}"#.utf8)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let headers = signer.headers(host: "localhost:9600", path: "/", headers: [("X-Amz-Target", "AmazonDMSv20160101.StartCutover")],
                                     body: body, now: now)
        let identity = try SigV4Verifier().verify(method: "POST", path: "/", query: "", headers: headers, body: body, now: now) { _ in GoldenRequest.secret }
        #expect(identity == .init(accessKeyID: GoldenRequest.accessKey, region: "eu-west-1"))
        #expect(throws: DMSError.self) {
            try SigV4Verifier().verify(method: "POST", path: "/", query: "", headers: headers, body: body + [32], now: now) { _ in GoldenRequest.secret }
        }
    }
}
