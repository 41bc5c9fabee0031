@testable import FerryAPI
import Testing

@Suite struct CapacityUnitsTests {
    @Test func computeConfigsAreCheckedAsDMSChecksThem() throws {
        #expect(try CapacityUnits.check(ComputeConfig(MaxCapacityUnits: 16, MinCapacityUnits: 2)).MaxCapacityUnits == 16)
        for refused in [ComputeConfig(), ComputeConfig(MaxCapacityUnits: 3), ComputeConfig(MaxCapacityUnits: 4, MinCapacityUnits: 8)] {
            #expect(throws: DMSError.self) { try CapacityUnits.check(refused) }
        }
        #expect(throws: DMSError.self) { try CapacityUnits.check(nil) }
    }

    @Test func moreUnitsNeverLoadFewerTablesAtOnce() {
        let parallelism = CapacityUnits.allowed.map(CapacityUnits.parallelism)
        #expect(parallelism == parallelism.sorted())
        #expect(parallelism.first == 4 && parallelism.last == 32)
    }
}
