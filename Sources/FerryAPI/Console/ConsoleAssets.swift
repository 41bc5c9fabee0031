import Crypto
import Foundation

/// The console's files (HTML, CSS, JavaScript, SVG), the package's resources in `Console/Resources`,
/// read once when the server starts. SwiftPM puts them in `Ferry_FerryAPI.resources` beside the
/// binary; a binary copied elsewhere needs that folder beside it.
struct ConsoleAssets: Sendable {
    struct Asset: Sendable {
        var bytes: [UInt8]
        var contentType: String
        /// A strong validator, so a browser asks again cheaply.
        var etag: String
    }

    /// The file names served, each under `/console/<name>`; `index.html` is also `/`.
    let files: [String: Asset]
    /// Where the files were looked for, for the message when they are missing.
    let searched: URL

    static let bundleName = "Ferry_FerryAPI.resources"

    /// The files beside the running binary (or test bundle).
    static func beside(_ executable: URL? = Bundle.main.executableURL) -> ConsoleAssets {
        let folder = (executable?.deletingLastPathComponent() ?? URL(fileURLWithPath: "."))
            .appendingPathComponent(bundleName).appendingPathComponent("Resources")
        return ConsoleAssets(folder: folder)
    }

    init(folder: URL) {
        searched = folder
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var files: [String: Asset] = [:]
        for name in names {
            guard let type = Self.contentType(of: name),
                  let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else { continue }
            let digest = SHA256.hash(data: data).prefix(12).map { String(format: "%02x", $0) }.joined()
            files[name] = Asset(bytes: Array(data), contentType: type, etag: "\"\(digest)\"")
        }
        self.files = files
    }

    static func contentType(of name: String) -> String? {
        switch (name as NSString).pathExtension {
        case "html": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js": return "text/javascript; charset=utf-8"
        case "svg": return "image/svg+xml"
        default: return nil
        }
    }
}
