import Crypto
import Foundation

/// Encrypts secrets at rest with AES-GCM under a 256-bit key kept in a file readable only by its owner.
public struct SecretBox: Sendable {
    private let key: SymmetricKey

    /// Loads the key from `file`, or creates it (mode 0600) when it does not exist.
    public init(keyFile: URL) throws {
        let manager = FileManager.default
        if let data = manager.contents(atPath: keyFile.path) {
            guard data.count == 32 else {
                throw CatalogError.corrupt("the key file \(keyFile.path) is not a 256-bit key")
            }
            key = SymmetricKey(data: data)
        } else {
            let fresh = SymmetricKey(size: .bits256)
            let data = fresh.withUnsafeBytes { Data($0) }
            guard manager.createFile(atPath: keyFile.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
                throw CatalogError.io("cannot write the key file \(keyFile.path)")
            }
            key = fresh
        }
    }

    /// The sealed form of `plaintext` (nonce, ciphertext and tag together).
    public func seal(_ plaintext: String) throws -> Data {
        guard let combined = try AES.GCM.seal(Data(plaintext.utf8), using: key).combined else {
            throw CatalogError.corrupt("AES-GCM produced no combined box")
        }
        return combined
    }

    /// The plaintext of a sealed secret; throws when it was not sealed with this key.
    public func open(_ sealed: Data) throws -> String {
        let box = try AES.GCM.SealedBox(combined: sealed)
        return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
    }
}

/// A catalog failure that is not the caller's fault.
public enum CatalogError: Error, CustomStringConvertible, Equatable {
    case corrupt(String)
    case io(String)
    case alreadyExists(String)

    public var description: String {
        switch self {
        case let .corrupt(message), let .io(message), let .alreadyExists(message): return message
        }
    }
}
