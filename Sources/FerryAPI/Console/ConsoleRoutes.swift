import FerryCatalog
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The web console (docs/console.md): its files at `/` and `/console/<file>`, and its JSON calls under
/// `/console/api/`. Signing in with an access key and its secret gives an HttpOnly, SameSite=Strict
/// session cookie and a CSRF token; every other call needs both, and runs the same DMS and CloudWatch
/// operations the signed API runs. Nothing but the files and the sign-in answers without a session.
struct ConsoleRoutes: Sendable {
    let service: DMSService
    let catalog: Catalog
    let sessions: ConsoleSessions
    let assets: ConsoleAssets
    let cloudWatch: CloudWatchService
    /// The server itself speaks HTTPS (`--tls-cert`): session cookies are `Secure`, as behind a TLS proxy.
    let overTLS: Bool
    let logger: Logger

    static let maximumBody = 1 << 20

    func add(to router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in file("index.html", request) }
        router.get("/console/:file") { request, context in file(context.parameters.get("file") ?? "", request) }
        router.post("/console/api/sign-in") { request, _ in await signIn(request) }
        router.get("/console/api/session") { request, _ in currentSession(request) }
        router.post("/console/api/sign-out") { request, _ in signOut(request) }
        router.post("/console/api/dms/:operation") { request, context in
            await call(request) { session, body in
                try await service.handle(operation: context.parameters.get("operation") ?? "", body: body, region: session.region)
            }
        }
        router.post("/console/api/monitoring/:operation") { request, context in
            await call(request) { _, body in
                let name = context.parameters.get("operation") ?? ""
                guard let operation = CloudWatchOperation(rawValue: name) else {
                    throw DMSError("UnknownOperationException", "The console answers GetMetricStatistics, GetMetricData and ListMetrics; got \(name).")
                }
                do {
                    let encoder = JSONEncoder()
                    encoder.dateEncodingStrategy = .secondsSince1970
                    return try encoder.encode(try cloudWatch.handle(operation, body))
                } catch let error as CloudWatchError {
                    throw DMSError(error.type, error.message)
                }
            }
        }
    }

    // MARK: Files

    private func file(_ name: String, _ request: Request) -> Response {
        guard let asset = assets.files[name] else {
            if assets.files.isEmpty {
                return Self.plain(.serviceUnavailable, "The console's files were not found: Ferry looked in \(assets.searched.path). "
                    + "Keep the \(ConsoleAssets.bundleName) folder that the build makes beside the ferry binary.\n")
            }
            return Self.plain(.notFound, "No console file \(name).\n")
        }
        var headers = Self.securityHeaders
        headers[.eTag] = asset.etag
        headers[.cacheControl] = "no-cache"
        if request.headers[.ifNoneMatch] == asset.etag { return Response(status: .notModified, headers: headers) }
        headers[.contentType] = asset.contentType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    // MARK: Sessions

    private struct SignInRequest: Decodable {
        var accessKeyId: String?
        var secretAccessKey: String?
        var region: String?
    }

    private func signIn(_ request: Request) async -> Response {
        do { try Self.checkOrigin(request) } catch { return Self.failure(error, status: .forbidden) }
        do {
            guard request.headers[.contentType]?.hasPrefix("application/json") == true else {
                throw DMSError.invalidParameter("Sign in with a JSON body (Content-Type: application/json).")
            }
            let body = try await request.body.collect(upTo: Self.maximumBody)
            let input = try JSONDecoder().decode(SignInRequest.self, from: Data(body.readableBytesView))
            guard let key = input.accessKeyId, !key.isEmpty else { throw DMSError.invalidParameter("accessKeyId: give the access key id.") }
            guard let secret = input.secretAccessKey, !secret.isEmpty else { throw DMSError.invalidParameter("secretAccessKey: give the secret access key.") }
            let region = input.region.flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1"
            try ResourceNames.validateRegion(region)
            let session: ConsoleSessions.Session
            switch sessions.signIn(accessKeyID: key, secret: secret, stored: try catalog.secretAccessKey(for: key), region: region) {
            case .success(let signedIn): session = signedIn
            case .failure(.wrongCredentials):
                logger.notice("console: a sign-in with access key \(key) was refused")
                throw DMSError("UnrecognizedClientException", "The access key id or the secret access key is wrong.")
            case .failure(.lockedOut(let until)):
                throw DMSError("AccessDeniedFault", "Too many wrong secrets for \(key); try again in \(Int(until.timeIntervalSinceNow.rounded(.up))) s.")
            }
            logger.info("console: \(key) signed in")
            var response = Self.json(.ok, Self.sessionBody(session))
            let secure = overTLS || request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https" ? "; Secure" : ""
            response.headers[.setCookie] = "\(ConsoleSessions.cookieName)=\(session.id); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(ConsoleSessions.lifetime))\(secure)"
            return response
        } catch {
            return Self.failure(error, status: (error as? DMSError)?.type == "InvalidParameterValueException" ? .badRequest : .unauthorized)
        }
    }

    /// Who is signed in; `{"signedIn": false}` (not an error, so the sign-in page loads without one) when nobody is.
    private func currentSession(_ request: Request) -> Response {
        guard let session = session(of: request) else { return Self.json(.ok, Data(#"{"signedIn":false}"#.utf8)) }
        return Self.json(.ok, Self.sessionBody(session))
    }

    private func signOut(_ request: Request) -> Response {
        if let session = session(of: request), ConsoleSessions.csrfMatches(request.headers[HTTPField.Name(ConsoleSessions.csrfHeader)!], session) {
            sessions.end(id: session.id)
        }
        var response = Response(status: .noContent, headers: Self.securityHeaders)
        response.headers[.setCookie] = "\(ConsoleSessions.cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        return response
    }

    /// The live session of a request whose credential still exists.
    private func session(of request: Request) -> ConsoleSessions.Session? {
        guard let id = Self.cookie(ConsoleSessions.cookieName, in: request.headers[.cookie]), let session = sessions.session(id: id) else { return nil }
        guard (try? catalog.hasCredential(session.accessKeyID)) == true else {
            sessions.end(id: id)
            return nil
        }
        return session
    }

    // MARK: Calls

    /// Runs a signed-in, CSRF-checked call on the request's JSON body.
    private func call(_ request: Request, _ operation: (ConsoleSessions.Session, Data) async throws -> Data) async -> Response {
        guard let session = session(of: request) else { return Self.failure(Self.signedOut, status: .unauthorized) }
        do { try Self.checkOrigin(request) } catch { return Self.failure(error, status: .forbidden) }
        guard ConsoleSessions.csrfMatches(request.headers[HTTPField.Name(ConsoleSessions.csrfHeader)!], session) else {
            return Self.failure(DMSError("AccessDeniedFault", "The request lacks the session's \(ConsoleSessions.csrfHeader) header; reload the page."),
                                status: .forbidden)
        }
        do {
            let body = try await request.body.collect(upTo: Self.maximumBody)
            return Self.json(.ok, try await operation(session, Data(body.readableBytesView)))
        } catch {
            let fault = DMSRequestHandler.fault(for: error)
            // DMS's Describe operations refuse a filter that matches nothing; the page asks for an empty
            // answer instead, so that nothing found is not an error in the browser.
            if fault.type == DMSError.notFound("").type, request.uri.queryParameters.get("notFound") == "empty" {
                return Self.json(.ok, Data("{}".utf8))
            }
            if fault.type == "InternalFailure" { logger.error("console call \(request.uri.path) failed: \(error)") }
            return Self.failure(fault, status: fault.type == "InternalFailure" ? .internalServerError : .badRequest)
        }
    }

    static let signedOut = DMSError("AccessDeniedFault", "Sign in to the console first: the session is missing or has ended.")

    /// A browser names the page's origin on a POST; one from another site is refused (a form or script
    /// elsewhere cannot act with the cookie). Clients that send no Origin are not browsers.
    static func checkOrigin(_ request: Request) throws {
        guard let origin = request.headers[.origin] else { return }
        let host = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init)
        guard let host, host == request.head.authority else {
            throw DMSError("AccessDeniedFault", "The console refuses requests from another origin (\(origin)).")
        }
    }

    static func cookie(_ name: String, in header: String?) -> String? {
        header?.split(separator: ";").lazy.map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }

    static func sessionBody(_ session: ConsoleSessions.Session) -> Data {
        (try? JSONSerialization.data(withJSONObject: ["signedIn": true, "accessKeyId": session.accessKeyID, "region": session.region, "csrfToken": session.csrfToken],
                                     options: [.sortedKeys])) ?? Data()
    }

    // MARK: Responses

    /// Scripts, styles and images only from Ferry itself; never in a frame.
    static let securityHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!: "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        HTTPField.Name("X-Frame-Options")!: "DENY",
    ]

    static func json(_ status: HTTPResponse.Status, _ body: Data) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func failure(_ error: Error, status: HTTPResponse.Status) -> Response {
        let fault = DMSRequestHandler.fault(for: error)
        let body = (try? JSONSerialization.data(withJSONObject: ["__type": fault.type, "message": fault.message], options: [.sortedKeys])) ?? Data()
        return json(status, body)
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
