import Foundation

/// Conversions between the textual forms of temporal values.
public enum TemporalText {
    /// A timestamp with an offset (`2024-01-02 03:04:05.5+02`, `…Z`, `…-03:30`) as UTC without an offset
    /// (`2024-01-02 01:04:05.5`). A timestamp without an offset is taken to be UTC already.
    /// Nil when the text is not a timestamp.
    public static func utcWithoutOffset(_ text: String) -> String? {
        let chars = Array(text.utf8)
        guard chars.count >= 10 else { return nil }
        // Find where the offset starts: a '+', '-' or 'Z' after the time part.
        var offsetStart = chars.count
        if let last = chars.last, last == UInt8(ascii: "Z") {
            offsetStart = chars.count - 1
        } else if chars.count > 19 || (chars.count > 10 && chars.contains(UInt8(ascii: ":"))) {
            var i = chars.count - 1
            while i > 10 {
                if chars[i] == UInt8(ascii: "+") || chars[i] == UInt8(ascii: "-") { offsetStart = i; break }
                i -= 1
            }
        }
        let local = String(decoding: chars[..<offsetStart], as: UTF8.self).replacingOccurrences(of: "T", with: " ")
        guard offsetStart < chars.count else { return local }
        let offsetText = String(decoding: chars[offsetStart...], as: UTF8.self)
        guard let offsetSeconds = parseOffset(offsetText) else { return nil }
        if offsetSeconds == 0 { return local }
        return shift(local, bySeconds: -offsetSeconds)
    }

    /// Seconds east of UTC for `Z`, `+HH`, `+HH:MM`, `+HHMM`, `+HH:MM:SS`.
    static func parseOffset(_ text: String) -> Int? {
        if text == "Z" { return 0 }
        guard let sign = text.first, sign == "+" || sign == "-" else { return nil }
        let digits = text.dropFirst().filter { $0 != ":" }
        guard digits.count >= 2, digits.count <= 6, digits.allSatisfy(\.isNumber) else { return nil }
        let d = Array(digits).map { Int(String($0))! }
        var seconds = (d[0] * 10 + d[1]) * 3600
        if d.count >= 4 { seconds += (d[2] * 10 + d[3]) * 60 }
        if d.count >= 6 { seconds += d[4] * 10 + d[5] }
        return sign == "-" ? -seconds : seconds
    }

    /// Adds seconds to a `YYYY-MM-DD HH:MM:SS[.f]` timestamp, keeping the fraction as written.
    static func shift(_ local: String, bySeconds delta: Int) -> String? {
        let parts = local.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let date = parts[0].split(separator: "-").compactMap { Int($0) }
        let timeAndFraction = parts[1].split(separator: ".", maxSplits: 1)
        let time = timeAndFraction[0].split(separator: ":").compactMap { Int($0) }
        guard date.count == 3, time.count == 3 else { return nil }
        var days = daysFromCivil(year: date[0], month: date[1], day: date[2])
        var seconds = time[0] * 3600 + time[1] * 60 + time[2] + delta
        days += Int((Double(seconds) / 86400).rounded(.down))
        seconds = ((seconds % 86400) + 86400) % 86400
        let (y, m, d) = civilFromDays(days)
        var out = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2)) \(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
        if timeAndFraction.count == 2 { out += "." + timeAndFraction[1] }
        return out
    }

    /// A moment as UTC text with microseconds: `2024-05-01 12:00:00.250000`.
    public static func utcText(of date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down))
        let seconds = Int(micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000)
        let fraction = Int(micros - Int64(seconds) * 1_000_000)
        return (shift("1970-01-01 00:00:00", bySeconds: seconds) ?? "") + "." + pad(fraction, 6)
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z: Int) -> (Int, Int, Int) {
        let z = z + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
