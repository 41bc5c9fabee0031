import FerryCore
import HummingbirdCore
import HummingbirdTLS
import NIOSSL

/// The certificate chain and private key `ferry serve` answers HTTPS with (`--tls-cert`, `--tls-key`).
public struct ServerTLS: Sendable {
    let configuration: TLSConfiguration

    /// Reads both PEM files and checks that they make a server context; a file that is missing, or holds
    /// no certificate or no key, is an error naming its option.
    public init(certificateFile: String, keyFile: String) throws {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificateFile) } catch {
            throw FerryError.invalidParameter("--tls-cert", "cannot read a PEM certificate chain from \(certificateFile): \(error)")
        }
        guard !chain.isEmpty else { throw FerryError.invalidParameter("--tls-cert", "\(certificateFile) holds no certificate") }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: keyFile, format: .pem) } catch {
            throw FerryError.invalidParameter("--tls-key", "cannot read a PEM private key from \(keyFile): \(error)")
        }
        configuration = .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        do { _ = try NIOSSLContext(configuration: configuration) } catch {
            throw FerryError.invalidParameter("--tls-key", "the key in \(keyFile) does not go with the certificate in \(certificateFile): \(error)")
        }
    }

    /// The HTTP/1.1 server over TLS.
    func server() throws -> HTTPServerBuilder {
        try .tls(.http1(), tlsConfiguration: configuration)
    }
}
