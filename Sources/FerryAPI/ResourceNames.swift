import Crypto
import Foundation

/// ARNs and identifiers as DMS writes them.
enum ResourceNames {
    /// `arn:aws:dms:REGION:ACCOUNT:TYPE:ID`, where TYPE is `endpoint`, `rep` or `task`.
    static func arn(region: String, account: String, type: String, id: String) -> String {
        "arn:aws:dms:\(region):\(account):\(type):\(id)"
    }

    /// A random resource id like DMS's: 26 upper-case base-32 characters.
    static func randomID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        return String(bytes.prefix(26).map { alphabet[Int($0) % alphabet.count] })
    }

    /// DMS's identifier rules: starts with a letter; letters, digits and hyphens; no `--`; no trailing hyphen.
    static func validate(_ identifier: String, field: String, maxLength: Int) throws {
        guard let first = identifier.first, first.isASCII, first.isLetter else {
            throw DMSError.invalidParameter("\(field) must begin with a letter; got '\(identifier)'.")
        }
        guard identifier.count <= maxLength else {
            throw DMSError.invalidParameter("\(field) must be at most \(maxLength) characters; got \(identifier.count).")
        }
        guard identifier.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw DMSError.invalidParameter("\(field) must contain only ASCII letters, digits and hyphens; got '\(identifier)'.")
        }
        guard !identifier.contains("--"), !identifier.hasSuffix("-") else {
            throw DMSError.invalidParameter("\(field) cannot end with a hyphen or contain two consecutive hyphens; got '\(identifier)'.")
        }
    }

    /// An AWS region name as ARNs hold it: lower-case words and a number joined by hyphens (`eu-central-1`).
    static func validateRegion(_ region: String) throws {
        let parts = region.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts.dropLast().allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isLowercase } }),
              let last = parts.last, !last.isEmpty, last.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw DMSError.invalidParameter("region must be an AWS region name such as us-east-1; got '\(region)'.")
        }
    }
}

/// `Marker`/`MaxRecords` paging and `Filters` as the Describe operations take them.
struct Page {
    var offset: Int
    var size: Int

    init(marker: String?, maxRecords: Int?, defaultSize: Int = 100, maximum: Int = 100) throws {
        if let maxRecords, !(20...maximum).contains(maxRecords) {
            throw DMSError.invalidParameter("MaxRecords must be between 20 and \(maximum); got \(maxRecords).")
        }
        size = maxRecords ?? defaultSize
        if let marker {
            guard let data = Data(base64Encoded: marker), let value = Int(String(decoding: data, as: UTF8.self)), value >= 0 else {
                throw DMSError.invalidParameter("Marker '\(marker)' is not a marker this server returned.")
            }
            offset = value
        } else {
            offset = 0
        }
    }

    /// The page's items and the marker of the next page, if any.
    func slice<T>(_ items: [T]) -> (items: [T], marker: String?) {
        guard offset < items.count else { return ([], nil) }
        let end = min(items.count, offset + size)
        let marker = end < items.count ? Data(String(end).utf8).base64EncodedString() : nil
        return (Array(items[offset..<end]), marker)
    }
}

/// Applies DMS `Filters`: every filter must match (AND); within a filter any value may match (OR).
struct FilterSet {
    let filters: [String: [String]]

    init(_ filters: [Filter]?, allowed: [String]) throws {
        var byName: [String: [String]] = [:]
        for filter in filters ?? [] {
            guard let name = filter.Name, allowed.contains(name) else {
                throw DMSError.invalidParameter("Filter name '\(filter.Name ?? "")' is not valid here; use one of \(allowed.joined(separator: ", ")).")
            }
            byName[name, default: []] += filter.Values ?? []
        }
        self.filters = byName
    }

    var isEmpty: Bool { filters.isEmpty }

    /// Whether an item passes; `value` gives the item's value for a filter name.
    func matches(_ value: (String) -> String?) -> Bool {
        filters.allSatisfy { name, values in
            guard let actual = value(name) else { return false }
            return values.contains { $0.caseInsensitiveCompare(actual) == .orderedSame }
        }
    }
}

/// A Describe operation's answer: the items that pass the filters, one page of them and the next marker.
/// As in DMS, a filtered Describe that matches nothing is ResourceNotFoundFault.
func describe<T>(_ items: [T], filters: FilterSet, page: Page, noneFound: String,
                 value: (T, String) -> String?) throws -> (items: [T], marker: String?) {
    let matching = items.filter { item in filters.matches { value(item, $0) } }
    if matching.isEmpty, !filters.isEmpty { throw DMSError.notFound(noneFound) }
    return page.slice(matching)
}
