@testable import FerryAPI
import FerryCatalog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Console sessions")
struct ConsoleSessionTests {
    /// A clock the test moves.
    final class Clock: @unchecked Sendable {
        var now = Date(timeIntervalSince1970: 1_800_000_000)
    }

    @Test("the right secret signs in; five wrong ones lock the key out for a minute, even from the right secret")
    func lockout() throws {
        let clock = Clock()
        let sessions = ConsoleSessions(now: { clock.now })
        let session = try sessions.signIn(accessKeyID: "AKIA1", secret: "s3cret", stored: "s3cret", region: "eu-west-1").get()
        #expect(sessions.session(id: session.id)?.region == "eu-west-1")
        #expect(session.csrfToken.count == 64 && session.id != session.csrfToken)
        for _ in 0..<ConsoleSessions.failuresBeforeLockout {
            #expect(throws: ConsoleSessions.SignInRefusal.wrongCredentials) { try sessions.signIn(accessKeyID: "AKIA1", secret: "guess", stored: "s3cret", region: "eu-west-1").get() }
        }
        #expect(throws: ConsoleSessions.SignInRefusal.lockedOut(until: clock.now.addingTimeInterval(ConsoleSessions.lockout))) {
            try sessions.signIn(accessKeyID: "AKIA1", secret: "s3cret", stored: "s3cret", region: "eu-west-1").get()
        }
        #expect(throws: ConsoleSessions.SignInRefusal.wrongCredentials, "an unknown key is refused as a wrong secret is") {
            try sessions.signIn(accessKeyID: "AKIA2", secret: "x", stored: nil, region: "eu-west-1").get()
        }
        clock.now += ConsoleSessions.lockout + 1
        #expect(throws: Never.self) { try sessions.signIn(accessKeyID: "AKIA1", secret: "s3cret", stored: "s3cret", region: "eu-west-1").get() }
    }

    @Test("a session ends after an idle hour, and after twelve hours however busy; sign-out ends it at once")
    func expiry() throws {
        let clock = Clock()
        let sessions = ConsoleSessions(now: { clock.now })
        let idle = try sessions.signIn(accessKeyID: "AKIA1", secret: "a", stored: "a", region: "us-east-1").get()
        let busy = try sessions.signIn(accessKeyID: "AKIA1", secret: "a", stored: "a", region: "us-east-1").get()
        for _ in 0..<13 {
            clock.now += ConsoleSessions.idleTimeout - 60
            if clock.now.timeIntervalSince(busy.created) < ConsoleSessions.lifetime { #expect(sessions.session(id: busy.id) != nil) }
        }
        #expect(sessions.session(id: idle.id) == nil)
        #expect(sessions.session(id: busy.id) == nil, "twelve hours is the most a session lives")
        let other = try sessions.signIn(accessKeyID: "AKIA1", secret: "a", stored: "a", region: "us-east-1").get()
        #expect(ConsoleSessions.csrfMatches(other.csrfToken, other) && !ConsoleSessions.csrfMatches(nil, other) && !ConsoleSessions.csrfMatches(busy.csrfToken, other))
        sessions.end(id: other.id)
        #expect(sessions.session(id: other.id) == nil)
    }
}

@Suite("Console routes")
struct ConsoleRouteTests {
    @Test("the files are served with their types, validators and a strict policy; unknown names are 404")
    func files() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        let app = try buildApplication(service: fixture.service, catalog: fixture.catalog)
        try await app.test(.router) { client in
            let etag = try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'self'") == true)
                #expect(String(buffer: response.body).contains(#"src="/console/app.js""#))
                return response.headers[.eTag]
            }
            try await client.execute(uri: "/", method: .get, headers: [.ifNoneMatch: etag ?? ""]) { #expect($0.status == .notModified) }
            for (name, type) in [("app.js", "text/javascript; charset=utf-8"), ("console.css", "text/css; charset=utf-8"), ("favicon.svg", "image/svg+xml")] {
                try await client.execute(uri: "/console/\(name)", method: .get) { response in
                    #expect(response.status == .ok && response.headers[.contentType] == type, "\(name)")
                }
            }
            try await client.execute(uri: "/console/..%2FPackage.swift", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test("a session works for the console's calls until its credential is deleted")
    func deletedCredential() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        let app = try buildApplication(service: fixture.service, catalog: fixture.catalog)
        try await app.test(.router) { client in
            let body = try JSONSerialization.data(withJSONObject: ["accessKeyId": fixture.signer.accessKeyID, "secretAccessKey": fixture.signer.secret])
            let (cookie, csrf) = try await client.execute(uri: "/console/api/sign-in", method: .post, headers: [.contentType: "application/json"],
                                                          body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .ok)
                let json = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(json?["region"] as? String == "us-east-1", "the region defaults to us-east-1")
                return (String(response.headers[.setCookie]?.split(separator: ";").first ?? ""), json?["csrfToken"] as? String ?? "")
            }
            let call: @Sendable () async throws -> HTTPResponse.Status = {
                try await client.execute(uri: "/console/api/dms/DescribeNodes", method: .post,
                                         headers: [.cookie: cookie, HTTPField.Name(ConsoleSessions.csrfHeader)!: csrf], body: ByteBuffer(string: "{}")) { $0.status }
            }
            #expect(try await call() == .ok)
            _ = try fixture.catalog.deleteCredential(fixture.signer.accessKeyID)
            #expect(try await call() == .unauthorized, "a deleted key's sessions end with it")
        }
    }
}
