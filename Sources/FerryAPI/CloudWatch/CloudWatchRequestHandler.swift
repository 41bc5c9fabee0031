import FerryCatalog
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// CloudWatch's wire protocols on the DMS port, SigV4-verified with service `monitoring`: JSON 1.0 (what
/// botocore and the aws CLI send: `X-Amz-Target: GraniteServiceVersion20100801.<Op>`, errors with
/// `x-amzn-query-error` so they map to the modelled exceptions) and the query protocol (a form with
/// `Action=`, XML answers). CBOR (newer Go and Java SDKs) is not spoken.
struct CloudWatchRequestHandler: Sendable {
    static let targetPrefix = "GraniteServiceVersion20100801."
    let service: CloudWatchService
    let catalog: Catalog
    let now: @Sendable () -> Date
    let logger: Logger
    let verifier = SigV4Verifier(service: "monitoring")

    /// Whether a request is CloudWatch's rather than DMS's.
    static func handles(_ request: Request) -> Bool {
        if let target = request.headers[HTTPField.Name("X-Amz-Target")!] { return target.hasPrefix(targetPrefix) }
        return request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") ?? false
    }

    func respond(to request: Request) async -> Response {
        let requestID = UUID().uuidString.lowercased()
        let query = request.headers[HTTPField.Name("X-Amz-Target")!] == nil
        do {
            let body = try await request.body.collect(upTo: DMSRequestHandler.maximumBody)
            let bytes = Array(body.readableBytesView)
            var headers: [(String, String)] = request.headers.map { ($0.name.canonicalName, $0.value) }
            if let authority = request.head.authority, !headers.contains(where: { $0.0 == "host" }) { headers.append(("host", authority)) }
            do {
                _ = try verifier.verify(method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
                                        headers: headers, body: bytes, now: now()) { try catalog.secretAccessKey(for: $0) }
            } catch let error as DMSError {
                throw Self.signatureError(error)
            }
            let name: String, input: Data
            if query {
                let parameters = QueryProtocol.parameters(Data(bytes))
                name = parameters["Action"] ?? ""
                input = try QueryProtocol.json(parameters)
            } else {
                name = String(request.headers[HTTPField.Name("X-Amz-Target")!]!.dropFirst(Self.targetPrefix.count))
                input = Data(bytes)
            }
            guard let operation = CloudWatchOperation(rawValue: name) else {
                throw CloudWatchError(code: "InvalidAction", type: "UnknownOperationException", status: 400,
                                      message: "Could not find operation \(name) for version \(QueryProtocol.version); Ferry answers GetMetricStatistics, GetMetricData and ListMetrics.")
            }
            let output = try service.handle(operation, input)
            if query { return Self.response(200, try QueryProtocol.response(output, action: name, requestID: requestID), xml: true, requestID: requestID) }
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .secondsSince1970
            return Self.response(200, try encoder.encode(output), xml: false, requestID: requestID)
        } catch {
            let fault = error as? CloudWatchError ?? CloudWatchError(code: "InternalServiceError", type: "InternalServiceFault", status: 500, message: "\(error)")
            if fault.status == 500 { logger.error("CloudWatch request \(requestID) failed: \(error)") }
            if query { return Self.response(fault.status, QueryProtocol.error(fault, requestID: requestID), xml: true, requestID: requestID) }
            let body = (try? JSONSerialization.data(withJSONObject: ["__type": "com.amazonaws.cloudwatch#\(fault.type)", "message": fault.message])) ?? Data()
            var response = Self.response(fault.status, body, xml: false, requestID: requestID)
            response.headers[HTTPField.Name("x-amzn-query-error")!] = "\(fault.code);Sender"
            return response
        }
    }

    /// A signature DMS's verifier refused, in CloudWatch's terms.
    static func signatureError(_ error: DMSError) -> CloudWatchError {
        switch error.type {
        case "UnrecognizedClientException": return CloudWatchError(code: "InvalidClientTokenId", type: "InvalidClientTokenId", status: 403, message: error.message)
        case "InvalidSignatureException": return CloudWatchError(code: "SignatureDoesNotMatch", type: "SignatureDoesNotMatch", status: 403, message: error.message)
        default: return CloudWatchError(code: error.type, type: error.type, status: 400, message: error.message)
        }
    }

    static func response(_ status: Int, _ body: Data, xml: Bool, requestID: String) -> Response {
        Response(status: HTTPResponse.Status(code: status),
                 headers: [.contentType: xml ? "text/xml" : "application/x-amz-json-1.0", HTTPField.Name("x-amzn-RequestId")!: requestID],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
