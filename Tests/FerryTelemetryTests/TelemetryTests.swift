import FerryCore
import FerryEngine
@testable import FerryTelemetry
import Foundation
import Testing

@Suite("Telemetry: figures recorded from status snapshots, exposed in Prometheus's format")
struct TelemetryTests {
    static let identity = TaskIdentity(task: "orders", replicationInstance: "ri-1", taskID: "ABCDEF", migrationType: "full-load-and-cdc",
                                       sourceEngine: "postgres", targetEngine: "mysql")

    static func telemetry() -> Telemetry {
        Telemetry(node: "test-node", dataDirectory: FileManager.default.temporaryDirectory)
    }

    /// The exposition's sample lines by series (`name{labels}`), values as text.
    static func samples(_ telemetry: Telemetry) -> [String: String] {
        let text = String(decoding: telemetry.exposition(), as: UTF8.self)
        var samples: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            samples[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return samples
    }

    static func table(_ name: String, _ state: TableLoadState, rows: Int64, estimate: Int64) -> TableProgress {
        var table = TableProgress(source: TableID(schema: "app", name: name), target: TableID(schema: "app", name: name), state: state)
        table.rowsLoaded = rows
        table.estimatedRows = estimate
        return table
    }

    @Test("a load's rows, tables by state and progress; counters follow the totals and start again after a reset")
    func load() {
        let telemetry = Self.telemetry()
        let metrics = telemetry.task(Self.identity)
        metrics.record(load: [Self.table("a", .completed, rows: 100, estimate: 100), Self.table("b", .loading, rows: 50, estimate: 300)])
        var samples = Self.samples(telemetry)
        let task = #"task="orders",replication_instance="ri-1""#
        #expect(samples["ferry_full_load_rows_total{\(task)}"] == "150")
        #expect(samples[#"ferry_tables{\#(task),state="loaded"}"#] == "1.0")
        #expect(samples[#"ferry_tables{\#(task),state="loading"}"#] == "1.0")
        #expect(samples["ferry_full_load_progress_ratio{\(task)}"] == "0.37")
        #expect(samples[#"ferry_table_rows_loaded_total{\#(task),schema="app",table="b"}"#] == "50")
        #expect(samples[#"ferry_task_info{\#(task),task_id="ABCDEF",migration_type="full-load-and-cdc",source_engine="postgres",target_engine="mysql"}"#] == "1.0")

        // A reload counts table b from zero again: the counter goes on rising.
        metrics.record(load: [Self.table("a", .completed, rows: 100, estimate: 100), Self.table("b", .loading, rows: 20, estimate: 300)])
        samples = Self.samples(telemetry)
        #expect(samples[#"ferry_table_rows_loaded_total{\#(task),schema="app",table="b"}"#] == "70")
        #expect(samples["ferry_full_load_rows_total{\(task)}"] == "170")
    }

    @Test("a stream's changes, latencies and per-table operations; a suspended table is flagged")
    func replication() {
        let telemetry = Self.telemetry()
        let metrics = telemetry.task(Self.identity)
        var status = ReplicationStatus().snapshot()
        status.changesApplied = 1200
        status.transactionsApplied = 300
        status.incomingChanges = 42
        status.latencySource = 1.5
        status.latencyTarget = 2.25
        status.retainedBytes = 4096
        status.reconnects = 2
        let orders = TableID(schema: "app", name: "orders")
        status.counts = [orders: [.insert: 1000, .delete: 200]]
        status.suspended = [orders: "column amount changed type"]
        metrics.record(replication: status)
        metrics.record(status: "running")
        let samples = Self.samples(telemetry)
        let task = #"task="orders",replication_instance="ri-1""#
        #expect(samples["ferry_cdc_changes_applied_total{\(task)}"] == "1200")
        #expect(samples["ferry_cdc_incoming_changes{\(task)}"] == "42.0")
        #expect(samples["ferry_cdc_source_latency_seconds{\(task)}"] == "1.5")
        #expect(samples["ferry_cdc_target_latency_seconds{\(task)}"] == "2.25")
        #expect(samples["ferry_cdc_retained_log_bytes{\(task)}"] == "4096.0")
        #expect(samples["ferry_cdc_reconnects_total{\(task)}"] == "2")
        #expect(samples[#"ferry_table_changes_total{\#(task),schema="app",table="orders",operation="insert"}"#] == "1000")
        #expect(samples[#"ferry_table_suspended{\#(task),schema="app",table="orders"}"#] == "1.0")
        #expect(samples[#"ferry_task_status{\#(task),status="running"}"#] == "1.0")
        #expect(samples[#"ferry_task_status{\#(task),status="stopped"}"#] == "0.0")
    }

    @Test("label values are escaped; a removed task leaves no series; the node's figures are there")
    func escapingAndRemoval() {
        let telemetry = Self.telemetry()
        let metrics = telemetry.task(Self.identity)
        metrics.record(load: [Self.table("we\"ird\\name", .queued, rows: 0, estimate: 1)])
        let text = String(decoding: telemetry.exposition(), as: UTF8.self)
        #expect(text.contains(#"table="we\"ird\\name""#), "a quote and a backslash in a table's name are escaped")
        #expect(text.contains(#"ferry_process_resident_memory_bytes{node="test-node"}"#))
        #expect(text.contains(#"ferry_data_directory_free_bytes{node="test-node"}"#))
        telemetry.remove(task: "orders")
        #expect(!String(decoding: telemetry.exposition(), as: UTF8.self).contains(#"task="orders""#))
    }

    @Test("the Grafana dashboard queries only series Ferry exposes")
    func dashboard() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/grafana-dashboard.json")
        let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(expressions.count >= 10)
        let known = Set(FerryMetric.all.map(\.name))
        for expression in expressions {
            let names = expression.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).filter { $0.hasPrefix("ferry_") }
            #expect(!names.isEmpty, "\(expression) reads no Ferry series")
            for name in names { #expect(known.contains(String(name)), "\(name) in the dashboard is not a Ferry metric") }
        }
    }

    @Test("every metric is documented in docs/metrics.md with its DMS name")
    func documented() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/metrics.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        for metric in FerryMetric.all {
            let row = text.split(separator: "\n").first { $0.contains("`\(metric.name)`") }
            #expect(row != nil, "\(metric.name) is not in docs/metrics.md")
            if let dms = metric.dmsName { #expect(row?.contains(dms) == true, "\(metric.name)'s row names \(dms)") }
        }
    }
}

@Suite("Metric history: CloudWatch windows from what swift-metrics records")
struct MetricHistoryTests {
    @Test("a gauge's window keeps count, sum, min and max; a counter's becomes its rate or its increase; a window goes once it ended")
    func windows() throws {
        let history = MetricHistory()
        history.register(task: "orders", resourceID: "ABCDEF")
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let latency = MetricHistory.SeriesKey(metric: "CDCLatencySource", task: "orders", instance: "ri-1")
        let rows = MetricHistory.SeriesKey(metric: "CDCThroughputRowsTarget", task: "orders", instance: "ri-1")
        for (second, value) in [(1.0, 2.0), (2, 4), (3, 0.5)] {
            history.add(latency, FerryMetric.cdcSourceLatency.cloudWatch!, value, now: start.addingTimeInterval(second))
            history.add(rows, FerryMetric.cdcChangesApplied.cloudWatch!, 50, now: start.addingTimeInterval(second))
        }
        #expect(history.drain(now: start.addingTimeInterval(9)).isEmpty, "no window has ended yet")
        let points = history.drain(now: start.addingTimeInterval(10))
        #expect(points.count == 2, "the 10-second windows ended; the minute windows go on")
        let gauge = try #require(points.first { $0.metric == "CDCLatencySource" })
        #expect(gauge.seconds == 10 && gauge.sampleCount == 3 && gauge.sum == 6.5 && gauge.minimum == 0.5 && gauge.maximum == 4)
        #expect(gauge.unit == "Seconds" && gauge.dimensions.map(\.value) == ["ri-1", "ABCDEF"])
        let rate = try #require(points.first { $0.metric == "CDCThroughputRowsTarget" })
        #expect(rate.sum == 15 && rate.sampleCount == 1 && rate.unit == "Count/Second", "150 changes in 10 s")
        let minute = history.drain(now: start.addingTimeInterval(60))
        #expect(minute.count == 2 && minute.allSatisfy { $0.seconds == 60 })
        #expect(minute.first { $0.metric == "CDCThroughputRowsTarget" }?.sum == 2.5, "150 changes in a minute")
        history.forget(task: "orders")
        history.add(latency, FerryMetric.cdcSourceLatency.cloudWatch!, 1, now: start.addingTimeInterval(61))
        #expect(history.drain(now: start.addingTimeInterval(200)).isEmpty, "a forgotten task's windows are dropped")
    }
}

@Suite("Task logs: JSON lines, rotated, read back in order")
struct TaskLogTests {
    @Test("lines keep counting across rotations and reopening; the oldest file goes; reads filter by level and text")
    func rotation() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-log-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = TaskLog(folder: folder)
        let message = String(repeating: "x", count: 100_000)
        let lines = TaskLog.maximumFileBytes / 100_000 * (TaskLog.keptFiles + 2)
        for n in 1...lines {
            log.append(level: n % 10 == 0 ? .warning : .info, component: "ferry.cdc", message: "\(n) \(message)", table: n == 7 ? "app.orders" : nil)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(files == ["task.log"] + (1...TaskLog.keptFiles).map { "task.log.\($0)" })
        #expect(log.diskBytes <= (TaskLog.keptFiles + 1) * TaskLog.maximumFileBytes)
        let kept = log.entries(limit: 100_000)
        #expect(kept.last?.sequence == lines && kept.map(\.sequence) == Array(kept[0].sequence...lines), "in order, none missing")
        #expect(kept[0].sequence > 1, "the oldest lines went with the oldest file")
        #expect(log.entries(after: kept[0].sequence + 5, limit: 2).map(\.sequence) == [kept[0].sequence + 6, kept[0].sequence + 7],
                "a read after a line in the oldest file starts right after it")
        #expect(log.entries(after: lines - 2).map(\.sequence) == [lines - 1, lines], "a read of the newest lines")

        let reopened = TaskLog(folder: folder)
        reopened.append(level: .error, component: "ferry.tasks", message: "after a restart", table: nil)
        #expect(reopened.entries(after: lines).map(\.sequence) == [lines + 1])
        #expect(reopened.entries(minimumLevel: .error).map(\.message) == ["after a restart"])
        #expect(reopened.entries(minimumLevel: .warning, limit: 3).allSatisfy { $0.level == "warning" })
        #expect(TaskLog(folder: folder).entries(filter: "AFTER A").count == 1)
        reopened.remove()
        #expect(!FileManager.default.fileExists(atPath: folder.path))
    }
}

@Suite("Task alarms")
struct TaskAlarmTests {
    @Test("lag raises once after its minutes above the threshold and resolves once; retained log raises at once")
    func alarms() {
        var settings = AlarmSettings()
        settings.latencySeconds = 60
        settings.latencyMinutes = 2
        settings.retainedBytes = 1000
        var alarms = TaskAlarms(settings)
        var status = ReplicationStatus().snapshot()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        status.latencySource = 50
        status.latencyTarget = 20
        #expect(alarms.evaluate(status, now: start).isEmpty, "above, but not for long enough")
        #expect(alarms.evaluate(status, now: start.addingTimeInterval(119)).isEmpty)
        let raised = alarms.evaluate(status, now: start.addingTimeInterval(120))
        #expect(raised.count == 1 && raised[0].hasPrefix("Alarm: replication lag 70 s"))
        #expect(alarms.evaluate(status, now: start.addingTimeInterval(300)).isEmpty, "raised once")
        status.latencySource = 0
        status.latencyTarget = 0
        #expect(alarms.evaluate(status, now: start.addingTimeInterval(301)).first?.hasPrefix("Alarm resolved") == true)
        status.latencySource = 100
        #expect(alarms.evaluate(status, now: start.addingTimeInterval(302)).isEmpty, "a new spell starts counting again")
        status.latencySource = 0
        status.retainedBytes = 5000
        #expect(alarms.evaluate(status, now: start.addingTimeInterval(303)).first?.contains("5000 bytes") == true)
        status.retainedBytes = 10
        #expect(alarms.evaluate(status, now: start.addingTimeInterval(304)).first?.hasPrefix("Alarm resolved") == true)
    }
}
