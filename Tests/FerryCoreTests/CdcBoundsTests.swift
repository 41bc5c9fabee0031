import FerryCore
import Foundation
import Testing

@Suite("CDC start and stop positions in DMS's forms")
struct CdcBoundsTests {
    static let moment = Date(timeIntervalSince1970: 1_518_178_332) // 2018-02-09T12:12:12Z

    @Test("start positions: native, DMS checkpoints and dates")
    func starts() {
        #expect(CdcStart.parse("0/16B3748") == .position("0/16B3748"))
        #expect(CdcStart.parse("mysql-bin-changelog.000024:373") == .position("mysql-bin-changelog.000024:373"))
        #expect(CdcStart.parse("binlog.000003:1234 gtid=0-1-11") == .position("binlog.000003:1234 gtid=0-1-11"))
        #expect(CdcStart.parse("checkpoint:V1#1#000004AF/B00000D0#0#0#*#0#0") == .position("000004AF/B00000D0"))
        #expect(CdcStart.parse("checkpoint:V1#27#mysql-bin-changelog.157832:1975:-1:2002:677883278264080:mysql-bin-changelog.157832:1876#0#0#*#0#93")
                == .position("mysql-bin-changelog.157832:1975"))
        #expect(CdcStart.parse("2018-02-09T12:12:12") == .time(Self.moment))
        #expect(CdcStart.parse("checkpoint:V2#x") == nil && CdcStart.parse("checkpoint:V1#1") == nil && CdcStart.parse(" ") == nil)
    }

    @Test("stop positions: server_time and commit_time, in UTC")
    func stops() {
        #expect(CdcStop.parse("server_time:2018-02-09T12:12:12") == .serverTime(Self.moment))
        #expect(CdcStop.parse("commit_time:2018-02-09T12:12:12Z") == .commitTime(Self.moment))
        #expect(CdcStop.parse("commit_time:2018-02-09T12:12:12")?.stopReason == "Stop Reason STOPPED_AT_COMMIT_TIME")
        #expect(CdcStop.parse("2018-02-09T12:12:12") == nil && CdcStop.parse("commit_time:yesterday") == nil)
    }
}
