import Foundation

/// CloudWatch's older query protocol: a form body (`Action=GetMetricStatistics&Dimensions.member.1.Name=…`)
/// read into the JSON the JSON protocol sends, and answers written as XML under `<ActionResponse>`.
enum QueryProtocol {
    static let version = "2010-08-01"
    static let xmlNamespace = "http://monitoring.amazonaws.com/doc/2010-08-01/"
    /// Members sent as numbers, booleans and times, which the form carries as text.
    static let integers: Set = ["Period", "MaxDatapoints"]
    static let booleans: Set = ["ReturnData"]
    static let timestamps: Set = ["StartTime", "EndTime"]

    /// The form's parameters, percent-decoded.
    static func parameters(_ body: Data) -> [String: String] {
        var result: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            result[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return result
    }

    /// The parameters (but `Action` and `Version`) as a JSON body: `A.member.N` becomes A's N-th item, `A.B` A's member B.
    static func json(_ parameters: [String: String]) throws -> Data {
        var root: [String: Any] = [:]
        for (key, text) in parameters where key != "Action" && key != "Version" {
            let path = key.split(separator: ".").map(String.init)
            let leaf = path.last(where: { Int($0) == nil && $0 != "member" }) ?? key
            let value: Any
            if integers.contains(leaf) {
                guard let number = Int(text) else { throw CloudWatchError.invalidValue("The parameter \(key) must be an integer; got '\(text)'.") }
                value = number
            } else if booleans.contains(leaf) {
                value = text.lowercased() == "true"
            } else if timestamps.contains(leaf) {
                guard let date = parseTime(text) else { throw CloudWatchError.invalidValue("The parameter \(key) must be an ISO 8601 time; got '\(text)'.") }
                value = date.timeIntervalSince1970
            } else {
                value = text
            }
            root = insert(value, at: path[...], into: root) as! [String: Any]
        }
        return try JSONSerialization.data(withJSONObject: lists(root))
    }

    /// Places a value in the tree; list items are kept as `[index: item]` until ``lists(_:)`` orders them.
    private static func insert(_ value: Any, at path: ArraySlice<String>, into node: Any?) -> Any {
        guard let head = path.first else { return value }
        if head == "member", let index = path.dropFirst().first.flatMap({ Int($0) }) {
            var items = node as? [Int: Any] ?? [:]
            items[index] = insert(value, at: path.dropFirst(2), into: items[index])
            return items
        }
        var object = node as? [String: Any] ?? [:]
        object[head] = insert(value, at: path.dropFirst(), into: object[head])
        return object
    }

    private static func lists(_ node: Any) -> Any {
        if let items = node as? [Int: Any] { return items.sorted { $0.key < $1.key }.map { lists($0.value) } }
        if let object = node as? [String: Any] { return object.mapValues(lists) }
        return node
    }

    static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// An answer: `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…`.
    static func response<T: Encodable>(_ output: T, action: String, requestID: String) throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let tree = try JSONSerialization.jsonObject(with: try encoder.encode(output))
        var xml = "<\(action)Response xmlns=\"\(xmlNamespace)\"><\(action)Result>"
        write(tree, into: &xml)
        xml += "</\(action)Result><ResponseMetadata><RequestId>\(requestID)</RequestId></ResponseMetadata></\(action)Response>"
        return Data(xml.utf8)
    }

    static func error(_ error: CloudWatchError, requestID: String) -> Data {
        Data(("<ErrorResponse xmlns=\"\(xmlNamespace)\"><Error><Type>Sender</Type><Code>\(escape(error.code))</Code><Message>\(escape(error.message))</Message>"
              + "</Error><RequestId>\(requestID)</RequestId></ErrorResponse>").utf8)
    }

    /// Objects as elements, arrays as `<member>`s (the outputs hold no booleans).
    private static func write(_ node: Any, into xml: inout String) {
        switch node {
        case let object as [String: Any]:
            for (name, value) in object.sorted(by: { $0.key < $1.key }) {
                if name == "ExtendedStatistics", let map = value as? [String: Any] {
                    // A map is written as entries of key and value.
                    xml += "<\(name)>"
                    for (entry, number) in map.sorted(by: { $0.key < $1.key }) {
                        xml += "<entry><key>\(escape(entry))</key><value>"
                        write(number, into: &xml)
                        xml += "</value></entry>"
                    }
                    xml += "</\(name)>"
                    continue
                }
                xml += "<\(name)>"
                write(value, into: &xml)
                xml += "</\(name)>"
            }
        case let items as [Any]:
            for item in items {
                xml += "<member>"
                write(item, into: &xml)
                xml += "</member>"
            }
        case let number as NSNumber:
            xml += number.stringValue
        case let text as String:
            xml += escape(text)
        default:
            break
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
