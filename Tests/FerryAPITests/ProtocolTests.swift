@testable import FerryAPI
import FerryCatalog
import Foundation
import HTTPTypes
import Testing

@Suite("DMS wire protocol and authentication")
struct ProtocolTests {
    @Test func unsignedUnknownKeyAndStaleRequestsAreRejected() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            var unsigned = HTTPFields()
            unsigned[HTTPField.Name("X-Amz-Target")!] = "AmazonDMSv20160101.DescribeEndpoints"
            let missing = try await api.call("DescribeEndpoints", headers: unsigned)
            #expect(missing.status == .badRequest)
            #expect(missing.errorType == "IncompleteSignature")

            let stranger = try await api.call("DescribeEndpoints", signer: TestSigner(accessKeyID: "AKIAUNKNOWN000000000", secret: "x"))
            #expect(stranger.errorType == "UnrecognizedClientException")

            let wrongSecret = try await api.call("DescribeEndpoints", signer: TestSigner(accessKeyID: api.signer.accessKeyID, secret: "wrong"))
            #expect(wrongSecret.errorType == "InvalidSignatureException")

            let stale = try await api.call("DescribeEndpoints", headers: api.signer.headers(operation: "DescribeEndpoints", body: Array("{}".utf8), date: Date().addingTimeInterval(-600)))
            #expect(stale.errorType == "InvalidSignatureException")
            #expect(stale.message.hasPrefix("Signature expired"))
        }
    }

    @Test func unknownOperationsAndBadBodiesGetTypedErrors() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            let unknown = try await api.call("LaunchRockets")
            #expect(unknown.status == .badRequest)
            #expect(unknown.errorType == "UnknownOperationException")

            let malformed = try await api.call("DescribeEndpoints", rawBody: "{not json")
            #expect(malformed.errorType == "SerializationException")

            let wrongType = try await api.call("DescribeEndpoints", ["MaxRecords": "twenty"])
            #expect(wrongType.errorType == "SerializationException")
            #expect(wrongType.message.contains("MaxRecords"))

            let missing = try await api.call("CreateEndpoint", ["EndpointIdentifier": "x", "EngineName": "postgres"])
            #expect(missing.errorType == "InvalidParameterValueException")
            #expect(missing.message == "The request must contain the parameter EndpointType.")
            #expect(missing.status == .badRequest)
        }
    }
}

@Suite("The operation table")
struct OperationTableTests {
    @Test("docs/api.md marks exactly the operations Ferry answers")
    func apiTableIsCurrent() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/api.md")
        let rows = try String(contentsOf: docs, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
        let answered = Set(rows.filter { $0.count >= 2 && $0[1] == "yes" }.map { $0[0] })
        #expect(answered == Set(DMSOperationName.allCases.map(\.rawValue)), "regenerate it: python3 scripts/generate-dms-shapes.py --api-table > docs/api.md")
    }
}
