import Crypto
import Foundation

/// The console's signed-in sessions, in memory: a restart signs everyone out. A session is made by
/// signing in with an access key and its secret, ends after an idle hour or twelve hours in all, and
/// carries the CSRF token every changing request must send back. Sign-ins for a key are refused for a
/// minute after five wrong secrets in a row. The clock is a parameter, so tests pin it.
final class ConsoleSessions: @unchecked Sendable {
    /// One signed-in browser.
    struct Session: Sendable, Equatable {
        /// The cookie's value.
        var id: String
        /// What the page sends in ``csrfHeader`` with every request that changes something.
        var csrfToken: String
        var accessKeyID: String
        /// The region the console acts in (the ARNs of what it creates).
        var region: String
        var created: Date
        var lastSeen: Date
    }

    /// Why a sign-in was refused.
    enum SignInRefusal: Error, Equatable {
        case wrongCredentials
        case lockedOut(until: Date)
    }

    static let cookieName = "ferry_session"
    static let csrfHeader = "X-Ferry-CSRF"
    static let idleTimeout: TimeInterval = 3600
    static let lifetime: TimeInterval = 12 * 3600
    static let failuresBeforeLockout = 5
    static let lockout: TimeInterval = 60
    static let trackedKeys = 10_000

    private let now: @Sendable () -> Date
    private let lock = NSLock()
    private var sessions: [String: Session] = [:]
    private var failures: [String: (count: Int, lockedUntil: Date?)] = [:]

    init(now: @escaping @Sendable () -> Date) {
        self.now = now
    }

    /// Signs in `accessKeyID` when `secret` is its secret (`stored`, from the catalog; nil for an unknown key).
    func signIn(accessKeyID: String, secret: String, stored: String?, region: String) -> Result<Session, SignInRefusal> {
        let time = now()
        lock.lock()
        defer { lock.unlock() }
        if let until = failures[accessKeyID]?.lockedUntil, until > time { return .failure(.lockedOut(until: until)) }
        // Hashed first, so the comparison's time does not depend on where the strings differ or on their lengths.
        guard let stored, SigV4Verifier.constantTimeEqual(Data(SHA256.hash(data: Data(secret.utf8))), Data(SHA256.hash(data: Data(stored.utf8)))) else {
            // Guessed keys must not grow the table without bound: past a limit, only lockouts in force stay.
            if failures.count >= Self.trackedKeys { failures = failures.filter { ($0.value.lockedUntil ?? .distantPast) > time } }
            var failure = failures[accessKeyID] ?? (0, nil)
            failure.count += 1
            if failure.count >= Self.failuresBeforeLockout { failure = (0, time.addingTimeInterval(Self.lockout)) }
            failures[accessKeyID] = failure
            return .failure(.wrongCredentials)
        }
        failures[accessKeyID] = nil
        sessions = sessions.filter { isLive($0.value, at: time) }
        let session = Session(id: Self.token(), csrfToken: Self.token(), accessKeyID: accessKeyID, region: region, created: time, lastSeen: time)
        sessions[session.id] = session
        return .success(session)
    }

    /// The live session the cookie names, which this use keeps alive; nil when it ended or never was.
    func session(id: String) -> Session? {
        let time = now()
        return lock.withLock {
            guard var session = sessions[id] else { return nil }
            guard isLive(session, at: time) else {
                sessions[id] = nil
                return nil
            }
            session.lastSeen = time
            sessions[id] = session
            return session
        }
    }

    /// Ends a session (sign-out).
    func end(id: String) {
        lock.withLock { sessions[id] = nil }
    }

    /// Whether `given` is the session's CSRF token, compared in constant time.
    static func csrfMatches(_ given: String?, _ session: Session) -> Bool {
        SigV4Verifier.constantTimeEqual(Data(SHA256.hash(data: Data((given ?? "").utf8))), Data(SHA256.hash(data: Data(session.csrfToken.utf8))))
    }

    private func isLive(_ session: Session, at time: Date) -> Bool {
        time.timeIntervalSince(session.lastSeen) < Self.idleTimeout && time.timeIntervalSince(session.created) < Self.lifetime
    }

    /// 256 random bits as hex.
    private static func token() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { SigV4Verifier.hex($0) }
    }
}
