import FerryCatalog
import Foundation

/// Certificates imported for endpoints' TLS: the certificate authority an endpoint whose SslMode is
/// verify-ca or verify-full checks its server's certificate against. PEM only; an Oracle wallet is
/// refused, as Ferry has no Oracle endpoints.
extension DMSService {
    func certificate(_ arn: String?) throws -> Certificate {
        guard let arn, !arn.isEmpty, let certificate = try catalog.get(.certificate, arn: arn, as: Certificate.self) else {
            throw DMSError.notFound("Certificate '\(arn ?? "")' not found.")
        }
        return certificate
    }

    func importCertificate(_ input: ImportCertificateMessage, _ context: RequestContext) throws -> ImportCertificateResponse {
        let identifier = input.CertificateIdentifier ?? ""
        try ResourceNames.validate(identifier, field: "CertificateIdentifier", maxLength: 255)
        if input.CertificateWallet?.isEmpty == false {
            throw DMSError.invalidParameter("CertificateWallet is an Oracle wallet, and Ferry has no Oracle endpoints: give CertificatePem.")
        }
        guard let pem = input.CertificatePem, !pem.isEmpty else {
            throw DMSError.invalidParameter("CertificatePem is required: the PEM-encoded certificate (-----BEGIN CERTIFICATE----- …).")
        }
        let facts = try CertificateFacts(pem: pem)
        let arn = ResourceNames.arn(region: context.region, account: context.account, type: "cert", id: ResourceNames.randomID())
        let certificate = Certificate(CertificateIdentifier: identifier, CertificateCreationDate: Date(), CertificatePem: pem, CertificateArn: arn,
                                      CertificateOwner: context.account, ValidFromDate: facts.validFrom, ValidToDate: facts.validTo,
                                      SigningAlgorithm: facts.signingAlgorithm, KeyLength: facts.keyLength, KmsKeyId: input.KmsKeyId)
        try checkQuota("Certificates")
        try insert(.certificate, arn: arn, identifier: identifier, certificate)
        try storeTags(input.Tags, for: arn)
        return ImportCertificateResponse(Certificate: certificate)
    }

    func describeCertificates(_ input: DescribeCertificatesMessage) throws -> DescribeCertificatesResponse {
        let filters = try FilterSet(input.Filters, allowed: ["certificate-id", "certificate-arn"])
        let (certificates, marker) = try describe(try catalog.list(.certificate, as: Certificate.self), filters: filters,
                                                  page: try Page(marker: input.Marker, maxRecords: input.MaxRecords),
                                                  noneFound: "No certificates found matching provided filters") { certificate, name in
            name == "certificate-id" ? certificate.CertificateIdentifier : certificate.CertificateArn
        }
        return DescribeCertificatesResponse(Marker: marker, Certificates: certificates)
    }

    /// Deletes a certificate no endpoint names.
    func deleteCertificate(_ input: DeleteCertificateMessage) throws -> DeleteCertificateResponse {
        let certificate = try certificate(input.CertificateArn)
        let arn = certificate.CertificateArn!
        let users = try catalog.list(.endpoint, as: Endpoint.self).filter { $0.CertificateArn == arn }
        guard users.isEmpty else {
            throw DMSError.invalidState("Certificate \(certificate.CertificateIdentifier ?? arn) is used by endpoint(s) "
                + "\(users.compactMap(\.EndpointIdentifier).joined(separator: ", ")): modify or delete them first.")
        }
        try catalog.delete(arn: arn)
        try? FileManager.default.removeItem(at: certificateFile(arn))
        return DeleteCertificateResponse(Certificate: certificate)
    }

    /// The file the database clients read a certificate from (libpq's `sslrootcert`, Connector/C's CA
    /// file), written under this node's data folder from the catalog when missing or different.
    func rootCertificateFile(_ arn: String) throws -> String {
        let pem = try certificate(arn).CertificatePem ?? ""
        let file = certificateFile(arn)
        if (try? String(contentsOf: file, encoding: .utf8)) != pem {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(pem.utf8).write(to: file, options: .atomic)
        }
        return file.path
    }

    private func certificateFile(_ arn: String) -> URL {
        let id = arn.split(separator: ":").last.map(String.init) ?? arn
        return catalog.directory.appendingPathComponent("certificates").appendingPathComponent("\(id).pem")
    }
}
