import Crypto
import FerryTelemetry
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `GET /metrics`: every series in Prometheus's text format. Unsigned, as scrapers do not sign; with a
/// token (`FERRY_METRICS_TOKEN`), only for `Authorization: Bearer <token>`.
struct MetricsEndpoint: Sendable {
    /// The environment variable that holds the token.
    static let tokenVariable = "FERRY_METRICS_TOKEN"

    let telemetry: Telemetry
    let token: String?

    init(telemetry: Telemetry, token: String? = ProcessInfo.processInfo.environment[Self.tokenVariable].flatMap { $0.isEmpty ? nil : $0 }) {
        self.telemetry = telemetry
        self.token = token
    }

    func respond(to request: Request) -> Response {
        if let token {
            let given = request.headers[.authorization].map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : "" } ?? ""
            // Compared in constant time, as a secret is (hashed first, so the lengths match).
            guard SigV4Verifier.constantTimeEqual(Data(SHA256.hash(data: Data(given.utf8))), Data(SHA256.hash(data: Data(token.utf8)))) else {
                return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: "GET /metrics needs Authorization: Bearer <\(Self.tokenVariable)>\n")))
            }
        }
        return Response(status: .ok, headers: [.contentType: Telemetry.contentType],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: telemetry.exposition())))
    }

    func add(to router: Router<BasicRequestContext>) {
        router.get("/metrics") { request, _ in respond(to: request) }
    }
}

/// `ferry migrate --metrics-listen`: an HTTP server of its own that answers `GET /metrics` only. Its
/// start and its end (a cancellation) are not news; a failure to listen is thrown by `run()`.
public func buildMetricsApplication(telemetry: Telemetry, host: String, port: Int) -> some ApplicationProtocol {
    let router = Router()
    MetricsEndpoint(telemetry: telemetry).add(to: router)
    var logger = Logger(label: "ferry.metrics")
    logger.logLevel = .critical
    return Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
}
