import CoreMetrics
import Foundation

/// The node's figures at one moment, as ``Telemetry/nodeSnapshot()`` gives them to the API.
public struct NodeSnapshot: Sendable, Equatable {
    /// User and system CPU time since the process started.
    public var cpuSeconds: Double
    public var residentMemoryBytes: Double?
    public var dataDirectoryFreeBytes: Double?
}

/// The process's CPU time and resident memory (from /proc) and the data folder's free space (statvfs).
final class NodeMetrics: @unchecked Sendable {
    private let dataDirectory: URL
    private let cpu: FloatingPointCounter
    private let memory: Gauge
    private let free: Gauge
    private var lastCPU = 0.0
    private let lock = NSLock()

    init(node: String, dataDirectory: URL, factory: any MetricsFactory) {
        self.dataDirectory = dataDirectory
        let labels = [("node", node)]
        cpu = FloatingPointCounter(label: FerryMetric.processCPU.name, dimensions: labels, factory: factory)
        memory = Gauge(label: FerryMetric.processMemory.name, dimensions: labels, factory: factory)
        free = Gauge(label: FerryMetric.dataDirectoryFree.name, dimensions: labels, factory: factory)
    }

    /// Reads the figures, records them and returns them.
    @discardableResult
    func record() -> NodeSnapshot {
        lock.withLock {
            if let seconds = Self.cpuSeconds(), seconds > lastCPU {
                cpu.increment(by: seconds - lastCPU)
                lastCPU = seconds
            }
            let resident = Self.residentBytes()
            if let resident { memory.record(resident) }
            var stats = statvfs()
            let freeBytes = statvfs(dataDirectory.path, &stats) == 0 ? Double(stats.f_bavail) * Double(stats.f_frsize) : nil
            if let freeBytes { free.record(freeBytes) }
            return NodeSnapshot(cpuSeconds: lastCPU, residentMemoryBytes: resident, dataDirectoryFreeBytes: freeBytes)
        }
    }

    /// User and system time from /proc/self/stat (fields 14 and 15, in clock ticks).
    static func cpuSeconds() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let end = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name, which may hold spaces: the state is field 3.
        let fields = text[text.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// VmRSS from /proc/self/status.
    static func residentBytes() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Double(line.split(separator: " ")[1]) else { return nil }
        return kilobytes * 1024
    }
}
