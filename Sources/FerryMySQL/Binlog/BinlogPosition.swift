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
            guard parts[1].hasPrefix("gtid=") else { return nil }
            var gtids: [GTID] = []
            for item in parts[1].dropFirst(5).split(separator: ",") {
                let numbers = item.split(separator: "-")
                guard numbers.count == 3, let domain = UInt32(numbers[0]), let server = UInt32(numbers[1]),
                      let sequence = UInt64(numbers[2]) else { return nil }
                gtids.append(GTID(domain: domain, server: server, sequence: sequence))
            }
            self.gtids = gtids
        }
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
