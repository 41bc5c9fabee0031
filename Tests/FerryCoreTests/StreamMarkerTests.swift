import FerryCore
import Testing

@Suite struct StreamMarkerTests {
    @Test func aMarkerReadsBackFromItsText() {
        let marker = StreamMarker(.stop, task: "orders-1", cutover: "abc123")
        #expect(marker.text == "stop orders-1 abc123")
        #expect(StreamMarker(text: marker.text) == marker)
        #expect(marker.stops("orders-1") && !marker.stops("orders-2"))
        #expect(!StreamMarker(.sync, task: "orders-1", cutover: "abc").stops("orders-1"))
    }

    @Test(arguments: ["", "stop", "stop orders-1", "halt orders-1 abc", "stop  abc", "sync a b c"])
    func anythingElseIsNotAMarker(text: String) {
        #expect(StreamMarker(text: text) == nil)
    }
}
