import FerryCore
import Testing

@Suite("Canonical text and checksum arithmetic")
struct CanonicalTextTests {
    @Test("doubles are written as PostgreSQL writes them, with MySQL's exponent sign")
    func doubles() {
        // Expected strings are PostgreSQL 15's float8 output (extra_float_digits=3) with `e+` written `e`.
        let cases: [(Double, String)] = [
            (1.5, "1.5"), (0.30000000000000004, "0.30000000000000004"), (1e20, "1e20"), (1e15, "1e15"),
            (1e14, "100000000000000"), (123456789012345680, "1.2345678901234568e17"), (0.0001, "0.0001"),
            (0.00001, "1e-05"), (-2.25e300, "-2.25e300"), (1.7976931348623157e308, "1.7976931348623157e308"),
            (-0.5, "-0.5"), (3, "3"), (0, "0"), (2.5e-10, "2.5e-10"), (123.456, "123.456"), (.infinity, "Infinity"),
        ]
        for (value, expected) in cases {
            #expect(CanonicalText.double(value) == expected, "\(value)")
        }
    }

    @Test("decimals, times and timestamps lose trailing fractional zeros; time zones become UTC")
    func temporalAndDecimal() {
        #expect(CanonicalText.decimal("12.500") == "12.5")
        #expect(CanonicalText.decimal("100") == "100")
        #expect(CanonicalText.decimal("100.00") == "100")
        #expect(CanonicalText.decimal("-0.00") == "0")
        #expect(CanonicalText.of(.text("2024-01-02 03:04:05.120000"), as: .timestamp(precision: 6)) == "2024-01-02 03:04:05.12")
        #expect(CanonicalText.of(.text("2024-01-02 03:04:00.000"), as: .timestamp(precision: 3)) == "2024-01-02 03:04:00")
        #expect(CanonicalText.of(.text("2024-01-02 03:04:05.5+02"), as: .timestampTZ(precision: 6)) == "2024-01-02 01:04:05.5")
        #expect(CanonicalText.of(.int(1), as: .boolean) == "1")
        #expect(CanonicalText.of(.bytes([0, 255]), as: .blob) == "00ff")
        #expect(CanonicalText.of(.text("ab   "), as: .char(length: 5)) == "ab")
        #expect(CanonicalText.of(.null, as: .text) == nil)
    }

    @Test("the same number or JSON written differently counts as the same value; different values do not")
    func sameValue() {
        #expect(CanonicalText.sameValue("10000000000", "1e10", as: .float32))
        #expect(!CanonicalText.sameValue("1.5", "1.25", as: .float64))
        #expect(CanonicalText.sameValue(#"{"b": 1, "a": [1, 2]}"#, #"{"a":[1,2],"b":1}"#, as: .json))
        #expect(!CanonicalText.sameValue(#"{"a": true}"#, #"{"a": 1}"#, as: .json))
        #expect(!CanonicalText.sameValue("a", "b", as: .text))
    }

    @Test("exact decimal sums reduce modulo 2^64, so signed and unsigned hashes agree")
    func wrappingSums() {
        // PostgreSQL reads the first 8 bytes of an MD5 as a signed bigint, MySQL as unsigned.
        #expect(BucketChecksum.wrapping(decimal: "-8070080442485551184") == BucketChecksum.wrapping(decimal: "10376663631224000432"))
        #expect(BucketChecksum.wrapping(decimal: "18446744073709551616") == 0)
        #expect(BucketChecksum.wrapping(decimal: "92206453778147875337717035") == 16144085133684557099)
        #expect(BucketChecksum(count: "3", sum: "-1") == BucketChecksum(count: 3, sum: UInt64.max))
    }

    @Test("adjacent key-range buckets merge into one range")
    func keyRanges() {
        let partitioning = Partitioning.keyRanges(lower: 10, width: 5)
        let ranges = partitioning.keyRanges(of: [3, 0, 1, 7, 1])
        #expect(ranges.map { [$0.lower, $0.upper] } == [[10, 20], [25, 30], [45, 50]])
    }
}
