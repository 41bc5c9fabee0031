import FerryCatalog
import FerryCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle

/// Where and how the API listens.
public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    /// HTTPS with this certificate; nil for plain HTTP.
    public var tls: ServerTLS?
    /// The clock requests are checked against (tests pin it).
    public var now: @Sendable () -> Date

    public init(host: String = "127.0.0.1", port: Int = 9600, tls: ServerTLS? = nil, now: @escaping @Sendable () -> Date = { Date() }) {
        self.host = host
        self.port = port
        self.tls = tls
        self.now = now
    }
}

/// The HTTP application: `POST /` speaks the DMS JSON 1.1 protocol and CloudWatch's (JSON 1.0 and query,
/// for the metrics' history), every request SigV4-verified; `GET /health` answers `ok`; `GET /metrics`
/// gives the metrics (docs/metrics.md); `GET /` and `/console/…` are the web console (docs/console.md).
/// A plain function, so tests build it without a socket. Over HTTPS when `settings` has a certificate.
public func buildApplication(service: DMSService, catalog: Catalog, settings: ServerSettings = ServerSettings(),
                             logger: Logger = Logger(label: "ferry.api")) throws -> some ApplicationProtocol {
    let router = Router()
    let handler = DMSRequestHandler(service: service, catalog: catalog, now: settings.now, logger: logger)
    let metricsHistory = CloudWatchService(catalog: catalog, now: settings.now)
    let cloudWatch = CloudWatchRequestHandler(service: metricsHistory, catalog: catalog, now: settings.now, logger: logger)
    router.post("/") { request, _ in
        CloudWatchRequestHandler.handles(request) ? await cloudWatch.respond(to: request) : await handler.respond(to: request)
    }
    router.get("/health") { _, _ in "ok" }
    MetricsEndpoint(telemetry: service.telemetry).add(to: router)
    ConsoleRoutes(service: service, catalog: catalog, sessions: ConsoleSessions(now: settings.now), assets: .beside(),
                  cloudWatch: metricsHistory, overTLS: settings.tls != nil, logger: logger).add(to: router)
    return Application(router: router, server: try settings.tls?.server() ?? .http1(),
                       configuration: .init(address: .hostname(settings.host, port: settings.port)),
                       services: [ClusterMembership(service: service), MetricHistoryWriter(telemetry: service.telemetry, catalog: catalog, logger: logger)],
                       logger: logger)
}

/// The node's cluster rounds while the server runs; when it is asked to shut down, the node hands its
/// tasks over (``DMSService/shutdown()``).
struct ClusterMembership: Service {
    let service: DMSService

    func run() async throws {
        await cancelWhenGracefulShutdown { await service.runCluster() }
        await service.shutdown()
    }
}

/// Turns one HTTP request into an operation call and its answer into AWS's wire format.
struct DMSRequestHandler: Sendable {
    let service: DMSService
    let catalog: Catalog
    let now: @Sendable () -> Date
    let logger: Logger
    let verifier = SigV4Verifier()
    static let maximumBody = 16 << 20

    func respond(to request: Request) async -> Response {
        let requestID = UUID().uuidString.lowercased()
        do {
            let body = try await request.body.collect(upTo: Self.maximumBody)
            let bytes = Array(body.readableBytesView)
            var headers: [(String, String)] = request.headers.map { ($0.name.canonicalName, $0.value) }
            if let authority = request.head.authority, !headers.contains(where: { $0.0 == "host" }) {
                headers.append(("host", authority))
            }
            let identity = try verifier.verify(method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
                                               headers: headers, body: bytes, now: now()) { try catalog.secretAccessKey(for: $0) }
            guard let target = request.headers[HTTPField.Name("X-Amz-Target")!], target.hasPrefix(DMSJSON.targetPrefix) else {
                throw DMSError("UnknownOperationException", "The X-Amz-Target header must name an operation as \(DMSJSON.targetPrefix)<Operation>.")
            }
            let operation = String(target.dropFirst(DMSJSON.targetPrefix.count))
            logger.debug("\(operation) from \(identity.accessKeyID) in \(identity.region)")
            let output = try await service.handle(operation: operation, body: Data(bytes), region: identity.region)
            return Self.response(.ok, output, requestID: requestID)
        } catch {
            let fault = Self.fault(for: error)
            if fault.type == "InternalFailure" { logger.error("request \(requestID) failed: \(error)") }
            let body = (try? JSONSerialization.data(withJSONObject: ["__type": fault.type, "message": fault.message], options: [.sortedKeys])) ?? Data()
            return Self.response(fault.type == "InternalFailure" ? .internalServerError : .badRequest, body, requestID: requestID)
        }
    }

    /// The DMS fault for any error an operation throws.
    static func fault(for error: Error) -> DMSError {
        switch error {
        case let error as DMSError: return error
        case let error as FerryError where error.kind == .invalidParameter: return .invalidParameter(error.message)
        case let error as FerryError where error.kind == .notFound: return .notFound(error.message)
        case let error as CatalogError:
            if case .alreadyExists = error { return .alreadyExists(error.description) }
            return DMSError("InternalFailure", "The catalog failed: \(error)")
        case is HTTPError: return DMSError("SerializationException", "The request body is larger than \(maximumBody) bytes.")
        default: return DMSError("InternalFailure", "\(error)")
        }
    }

    static func response(_ status: HTTPResponse.Status, _ body: Data, requestID: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/x-amz-json-1.1"
        headers[HTTPField.Name("x-amzn-RequestId")!] = requestID
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
