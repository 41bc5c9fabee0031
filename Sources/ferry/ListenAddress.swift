import FerryCore

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
}
