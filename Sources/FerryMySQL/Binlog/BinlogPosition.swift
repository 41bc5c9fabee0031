import FerryCore

/// Where a binlog reader stands: a file and offset (`binlog.000003:1234`, as DMS writes MySQL
/// checkpoints) and, on MariaDB, the GTID of the last transaction of each replication domain
/// (`binlog.000003:1234 gtid=0-1-11`). Either resumes the stream: the file and offset while the server
/// still has the file, the GTIDs after a failover to another server.
struct BinlogPosition: Equatable {
    var file: String
    var offset: UInt64
    var gtids: [GTID] = []

    var description: String {
        "\(file):\(offset)" + (gtids.isEmpty ? "" : " gtid=" + gtids.map(\.description).joined(separator: ","))
    }

    /// The GTIDs as `@slave_connect_state` takes them.
    var connectState: String { gtids.map(\.description).joined(separator: ",") }

    init(file: String, offset: UInt64, gtids: [GTID] = []) {
        self.file = file
        self.offset = offset
        self.gtids = gtids
    }

    init?(_ text: String) {
        let parts = text.split(separator: " ", maxSplits: 1)
        guard let location = parts.first, let colon = location.lastIndex(of: ":"),
              let offset = UInt64(location[location.index(after: colon)...]), colon > location.startIndex else { return nil }
        file = String(location[..<colon])
        self.offset = offset
        if parts.count == 2 {
            guard parts[1].hasPrefix("gtid="), let gtids = Self.gtids(parts[1].dropFirst(5)) else { return nil }
            self.gtids = gtids
        }
    }

    /// A GTID list as MariaDB writes it (`0-1-11,2-5-7`); nil when it is not one.
    static func gtids(_ text: Substring) -> [GTID]? {
        var gtids: [GTID] = []
        for item in text.split(separator: ",") {
            let numbers = item.split(separator: "-")
            guard numbers.count == 3, let domain = UInt32(numbers[0]), let server = UInt32(numbers[1]),
                  let sequence = UInt64(numbers[2]) else { return nil }
            gtids.append(GTID(domain: domain, server: server, sequence: sequence))
        }
        return gtids
    }

    /// Whether this position's file and offset stand where its GTIDs say, given the GTID state the server
    /// reports at that file and offset (`BINLOG_GTID_POS`). A promoted replica names its binlog files as
    /// the old primary did, so the same name and offset can be another place in the history there.
    func offsetAgrees(withServerState state: String) -> Bool {
        guard let server = Self.gtids(Substring(state)) else { return false }
        return gtids.allSatisfy { ours in server.contains(ours) }
    }

    /// The position after a transaction with `gtid`: it replaces the GTID of its domain.
    func advanced(to offset: UInt64, in file: String, gtid: GTID?) -> BinlogPosition {
        var gtids = self.gtids
        if let gtid {
            gtids.removeAll { $0.domain == gtid.domain }
            gtids.append(gtid)
            gtids.sort { $0.domain < $1.domain }
        }
        return BinlogPosition(file: file, offset: offset, gtids: gtids)
    }
}
