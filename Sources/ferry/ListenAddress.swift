import FerryCore
import Foundation

/// A `HOST:PORT` to listen on, as `--listen` and `--metrics-listen` take it.
struct ListenAddress {
    var host: String
    var port: Int

    static func parse(_ text: String, field: String) throws -> ListenAddress {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw FerryError.invalidParameter(field, "expected HOST:PORT such as 127.0.0.1:9600, got '\(text)'")
        }
        return ListenAddress(host: String(text[..<colon]), port: port)
    }

    /// Whether only this machine can reach the address: 127.0.0.0/8, ::1 or localhost.
    var isLoopback: Bool {
        let host = self.host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host == "localhost" || host == "::1" || host.split(separator: ".", omittingEmptySubsequences: false).first == "127"
    }

    /// The API on a non-loopback address carries passwords and signed requests, so it is served there only
    /// over TLS, unless the operator says something in front of it encrypts (`--insecure-listen`).
    func checkExposure(tls: Bool, insecureListen: Bool) throws {
        guard !isLoopback, !tls, !insecureListen else { return }
        throw FerryError.invalidParameter("--listen", "\(host):\(port) is reachable from other machines, and without TLS the API's traffic "
            + "(endpoint passwords included) would cross the network in the clear: give --tls-cert and --tls-key, or --insecure-listen "
            + "when a proxy or a private network in front of Ferry encrypts it")
    }
}
