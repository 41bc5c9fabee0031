/// DMS Serverless capacity units (DCU, 2 GB of memory each) and what they give a replication here: how
/// many tables (or chunks) it loads at once, as a replication instance with as much memory would.
enum CapacityUnits {
    /// The values DMS accepts for MinCapacityUnits and MaxCapacityUnits.
    static let allowed = [1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384]

    /// Checks a ComputeConfig as DMS does: MaxCapacityUnits is required, both bounds are allowed values,
    /// and the minimum is not above the maximum.
    static func check(_ compute: ComputeConfig?) throws -> ComputeConfig {
        guard let compute, let maximum = compute.MaxCapacityUnits else {
            throw DMSError.invalidParameter("ComputeConfig.MaxCapacityUnits is required: one of \(allowed.map(String.init).joined(separator: ", ")).")
        }
        for (name, value) in [("MaxCapacityUnits", maximum), ("MinCapacityUnits", compute.MinCapacityUnits)] {
            if let value, !allowed.contains(value) {
                throw DMSError.invalidParameter("ComputeConfig.\(name) must be one of \(allowed.map(String.init).joined(separator: ", ")); got \(value).")
            }
        }
        if let minimum = compute.MinCapacityUnits, minimum > maximum {
            throw DMSError.invalidParameter("ComputeConfig.MinCapacityUnits (\(minimum)) is above MaxCapacityUnits (\(maximum)).")
        }
        return compute
    }

    /// Tables (or chunks) a replication of `units` DCU loads at once: 1 DCU as a small instance (2 GB),
    /// 2–4 as a medium or large one, 8 as an xlarge, 16 as a 2xlarge, more as the larger classes.
    static func parallelism(_ units: Int) -> Int {
        switch units {
        case ...1: return 4
        case 2...4: return 8
        case 5...8: return 16
        case 9...16: return 24
        default: return 32
        }
    }
}
