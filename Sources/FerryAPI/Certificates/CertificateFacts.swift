import _CryptoExtras
import Crypto
import Foundation
import X509

/// What DescribeCertificates tells of an imported certificate, read from its PEM: when it is valid, how
/// it is signed, and its key's length. Pure: no catalog, no clock.
struct CertificateFacts: Equatable {
    var validFrom: Date
    var validTo: Date
    /// DMS's names: `SHA256withRSA`, `SHA384withECDSA`, `Ed25519`.
    var signingAlgorithm: String
    /// Bits of the public key: the RSA modulus, or the curve's size.
    var keyLength: Int

    /// The facts of the first certificate in `pem`; a PEM that holds none is DMS's InvalidCertificateFault.
    init(pem: String) throws {
        let certificate: X509.Certificate
        do {
            certificate = try X509.Certificate(pemEncoded: Self.firstCertificate(in: pem))
        } catch {
            throw DMSError("InvalidCertificateFault", "CertificatePem is not a PEM-encoded X.509 certificate (-----BEGIN CERTIFICATE----- …): \(error)")
        }
        validFrom = certificate.notValidBefore
        validTo = certificate.notValidAfter
        signingAlgorithm = Self.name(of: certificate.signatureAlgorithm)
        keyLength = Self.bits(of: certificate.publicKey)
    }

    /// The first `CERTIFICATE` block: a bundle (a chain) is read by its first certificate, as DMS does.
    private static func firstCertificate(in pem: String) -> String {
        let begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----"
        guard let start = pem.range(of: begin), let stop = pem.range(of: end, range: start.upperBound..<pem.endIndex) else { return pem }
        return String(pem[start.lowerBound..<stop.upperBound])
    }

    private static func name(of algorithm: X509.Certificate.SignatureAlgorithm) -> String {
        switch algorithm {
        case .sha1WithRSAEncryption: return "SHA1withRSA"
        case .sha256WithRSAEncryption: return "SHA256withRSA"
        case .sha384WithRSAEncryption: return "SHA384withRSA"
        case .sha512WithRSAEncryption: return "SHA512withRSA"
        case .ecdsaWithSHA256: return "SHA256withECDSA"
        case .ecdsaWithSHA384: return "SHA384withECDSA"
        case .ecdsaWithSHA512: return "SHA512withECDSA"
        case .ed25519: return "Ed25519"
        default: return "\(algorithm)"
        }
    }

    private static func bits(of key: X509.Certificate.PublicKey) -> Int {
        if let rsa = _RSA.Signing.PublicKey(key) { return rsa.keySizeInBits }
        if P256.Signing.PublicKey(key) != nil { return 256 }
        if P384.Signing.PublicKey(key) != nil { return 384 }
        if P521.Signing.PublicKey(key) != nil { return 521 }
        return 256  // Curve25519, the only other key a certificate can hold here
    }
}
