import Foundation

/// A DMS table-mapping document (`{"rules": [...]}`): which tables to copy and how to name them.
///
/// Selection rules (include, exclude, explicit; `%`/`_` wildcards; source filters), name transformations
/// (rename, case conversion, prefixes and suffixes, remove-column) and table settings (parallel-load) are applied.
public struct TableMappings: Sendable {
    public var selections: [SelectionRule]
    public var transformations: [TransformationRule]
    public var tableSettings: [TableSettingsRule] = []

    /// Every table of every schema, under its own name: what `ferry migrate` uses without `--table-mappings`.
    public static let includeAll = TableMappings(selections: [
        SelectionRule(ruleID: "1", ruleName: "include-all", schema: try! Wildcard("%"), table: try! Wildcard("%"),
                      action: .include, loadOrder: 0),
    ], transformations: [])

    /// Exactly the named tables, under their own names (how Ferry reads a target's tables back).
    public static func exactly(_ tables: [TableID]) -> TableMappings {
        TableMappings(selections: tables.enumerated().map { index, table in
            SelectionRule(ruleID: "\(index + 1)", ruleName: "\(table)", schema: Wildcard(literal: table.schema),
                          table: Wildcard(literal: table.name), action: .include, loadOrder: 0)
        }, transformations: [])
    }

    public init(selections: [SelectionRule], transformations: [TransformationRule]) {
        self.selections = selections
        self.transformations = transformations
    }

    /// Parses a mapping document; errors name the rule and the field.
    public init(json: String) throws {
        guard let data = json.data(using: .utf8),
              let root = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            throw FerryError.invalidParameter("TableMappings", "is not valid JSON")
        }
        let document = try JSONFields(root, path: "TableMappings")
        try document.rejectUnknownKeys(allowed: ["rules"])
        guard let rules = try document.array("rules") else {
            throw FerryError.invalidParameter("TableMappings.rules", "is required")
        }
        var selections: [SelectionRule] = []
        var transformations: [TransformationRule] = []
        var tableSettings: [TableSettingsRule] = []
        var seenIDs: Set<String> = []
        for (index, raw) in rules.enumerated() {
            let rule = try JSONFields(raw, path: "TableMappings.rules[\(index)]")
            let ruleID = try rule.stringOrNumber("rule-id")
            let fields = try JSONFields(raw, path: "rule \(ruleID.map { "'\($0)'" } ?? "#\(index + 1)")")
            guard let ruleID else { throw FerryError.invalidParameter("\(fields.path).rule-id", "is required") }
            guard seenIDs.insert(ruleID).inserted else {
                throw FerryError.invalidParameter("\(fields.path).rule-id", "duplicate rule-id '\(ruleID)'")
            }
            switch try fields.string("rule-type") {
            case "selection": selections.append(try SelectionRule(fields, ruleID: ruleID))
            case "transformation": transformations.append(try TransformationRule(fields, ruleID: ruleID))
            case "table-settings": tableSettings.append(try TableSettingsRule(fields, ruleID: ruleID))
            case let other:
                throw FerryError.invalidParameter("\(fields.path).rule-type", "unknown rule-type '\(other)'; expected selection, transformation or table-settings")
            }
        }
        guard selections.contains(where: { $0.action != .exclude }) else {
            throw FerryError.invalidParameter("TableMappings.rules", "needs at least one selection rule with rule-action include or explicit")
        }
        self.selections = selections
        self.transformations = transformations.sorted { RuleOrder.precedes($0.ruleID, $1.ruleID) }
        self.tableSettings = tableSettings.sorted { RuleOrder.precedes($0.ruleID, $1.ruleID) }
    }

    /// Whether a table may be read by several readers at once: not when a table-settings rule says
    /// `parallel-load` `none` (the last matching rule decides).
    public func allowsParallelLoad(_ table: TableID) -> Bool {
        tableSettings.last { $0.matches(table) && $0.parallelLoad != nil }?.parallelLoad != TableSettingsRule.ParallelLoad.none
    }

    /// Whether the selection rules pick this table.
    public func selects(_ table: TableID) -> Bool {
        var included = false
        for rule in selections where rule.matches(table) {
            if rule.action == .exclude { return false }
            included = true
        }
        return included
    }

    /// The highest load-order among the selection rules that pick the table (DMS loads higher values first).
    public func loadOrder(of table: TableID) -> Int {
        selections.filter { $0.action != .exclude && $0.matches(table) }.map(\.loadOrder).max() ?? 0
    }

    /// Tables named by explicit rules, which must exist.
    public var explicitTables: [TableID] {
        selections.filter { $0.action == .explicit }.map { TableID(schema: $0.schema.description, name: $0.table.description) }
    }

    /// The plan for a selected table: target schema, table and column names after every transformation.
    public func plan(for table: TableSchema) throws -> TablePlan {
        var schema = table.id.schema
        var name = table.id.name
        var columns = table.columns.map { ColumnPlan(source: $0, targetName: $0.name) }
        // With include-column rules, only the columns they name are copied (as DMS does).
        var included: Set<String> = []
        for rule in transformations where rule.schema.matches(table.id.schema) {
            switch rule.target {
            case .schema:
                schema = rule.apply(to: schema)
            case .table:
                if rule.table?.matches(table.id.name) ?? true { name = rule.apply(to: name) }
            case .column:
                guard rule.table?.matches(table.id.name) ?? true else { continue }
                let matching = columns.indices.filter { rule.column?.matches(columns[$0].source.name) ?? true }
                if let pattern = rule.column, pattern.isExact, matching.isEmpty {
                    throw FerryError.invalidParameter("rule '\(rule.ruleID)'.object-locator.column-name",
                                                      "column '\(pattern)' does not exist in \(table.id)")
                }
                if rule.action == .removeColumn {
                    let removed = Set(matching.map { columns[$0].source.name })
                    columns.removeAll { removed.contains($0.source.name) }
                } else if rule.action == .includeColumn {
                    included.formUnion(matching.map { columns[$0].source.name })
                } else {
                    for i in matching { columns[i].targetName = rule.apply(to: columns[i].targetName) }
                }
            }
        }
        if !included.isEmpty { columns.removeAll { !included.contains($0.source.name) } }
        guard !columns.isEmpty else {
            throw FerryError.invalidParameter("TableMappings", "the rules remove every column of \(table.id)")
        }
        var filters: [RowFilter] = []
        for rule in selections where rule.action != .exclude && rule.matches(table.id) {
            for filter in rule.filters {
                guard table.column(named: filter.column) != nil else {
                    throw FerryError.invalidParameter("rule '\(rule.ruleID)'.filters.column-name",
                                                      "column '\(filter.column)' does not exist in \(table.id)")
                }
                filters.append(filter)
            }
        }
        return TablePlan(source: table, target: TableID(schema: schema, name: name), columns: columns, filters: filters)
    }
}

/// Orders rule-ids numerically when both are numbers, otherwise as text.
enum RuleOrder {
    static func precedes(_ a: String, _ b: String) -> Bool {
        if let x = Int(a), let y = Int(b) { return x < y }
        return a < b
    }
}

/// A `selection` rule.
public struct SelectionRule: Sendable {
    public enum Action: String, Sendable { case include, exclude, explicit }

    public var ruleID: String
    public var ruleName: String
    public var schema: Wildcard
    public var table: Wildcard
    public var action: Action
    public var loadOrder: Int
    /// Row filters for the tables this rule selects.
    public var filters: [RowFilter]

    public init(ruleID: String, ruleName: String, schema: Wildcard, table: Wildcard, action: Action, loadOrder: Int,
                filters: [RowFilter] = []) {
        self.ruleID = ruleID
        self.ruleName = ruleName
        self.schema = schema
        self.table = table
        self.action = action
        self.loadOrder = loadOrder
        self.filters = filters
    }

    init(_ fields: JSONFields, ruleID: String) throws {
        try fields.rejectUnknownKeys(allowed: ["rule-type", "rule-id", "rule-name", "object-locator", "rule-action", "filters", "load-order"])
        let locator = try fields.child("object-locator")
        try locator.rejectUnknownKeys(allowed: ["schema-name", "table-name", "table-type"])
        let actionText = try fields.string("rule-action")
        guard let action = Action(rawValue: actionText) else {
            throw FerryError.invalidParameter("\(fields.path).rule-action", "unknown rule-action '\(actionText)' for a selection rule; expected include, exclude or explicit")
        }
        self.filters = try (fields.array("filters") ?? []).enumerated().map { index, raw in
            try RowFilter.parse(JSONFields(raw, path: "\(fields.path).filters[\(index)]"))
        }
        if action == .exclude, !filters.isEmpty {
            throw FerryError.invalidParameter("\(fields.path).filters", "filters go with include or explicit rules, not exclude")
        }
        self.ruleID = ruleID
        self.ruleName = try fields.optionalString("rule-name") ?? ruleID
        self.action = action
        if action == .explicit {
            // An explicit rule names one table: its names are taken literally, `%` and `_` included.
            self.schema = Wildcard(literal: try locator.string("schema-name"))
            self.table = Wildcard(literal: try locator.string("table-name"))
        } else {
            self.schema = try Self.pattern(locator, "schema-name")
            self.table = try Self.pattern(locator, "table-name")
        }
        if let order = try fields.stringOrNumber("load-order") {
            guard let value = Int(order) else {
                throw FerryError.invalidParameter("\(fields.path).load-order", "expected an integer, got '\(order)'")
            }
            self.loadOrder = value
        } else {
            self.loadOrder = 0
        }
    }

    static func pattern(_ locator: JSONFields, _ key: String) throws -> Wildcard {
        let text = try locator.string(key)
        do { return try Wildcard(text) } catch let error as FerryError {
            throw FerryError.invalidParameter("\(locator.path).\(key)", error.message)
        }
    }

    public func matches(_ table: TableID) -> Bool {
        schema.matches(table.schema) && self.table.matches(table.name)
    }
}

/// A `transformation` rule that renames schemas, tables or columns, or removes or includes columns.
public struct TransformationRule: Sendable {
    public enum Target: String, Sendable { case schema, table, column }
    public enum Action: String, Sendable, CaseIterable {
        case rename
        case convertLowercase = "convert-lowercase"
        case convertUppercase = "convert-uppercase"
        case addPrefix = "add-prefix"
        case removePrefix = "remove-prefix"
        case replacePrefix = "replace-prefix"
        case addSuffix = "add-suffix"
        case removeSuffix = "remove-suffix"
        case replaceSuffix = "replace-suffix"
        case removeColumn = "remove-column"
        case includeColumn = "include-column"
    }

    public var ruleID: String
    public var target: Target
    public var schema: Wildcard
    public var table: Wildcard?
    public var column: Wildcard?
    public var action: Action
    public var value: String?
    public var oldValue: String?

    init(_ fields: JSONFields, ruleID: String) throws {
        try fields.rejectUnknownKeys(allowed: ["rule-type", "rule-id", "rule-name", "rule-target", "object-locator", "rule-action", "value", "old-value"])
        let targetText = try fields.string("rule-target")
        guard let target = Target(rawValue: targetText) else {
            throw FerryError.invalidParameter("\(fields.path).rule-target", "'\(targetText)' is not supported; expected schema, table or column")
        }
        let actionText = try fields.string("rule-action")
        guard let action = Action(rawValue: actionText) else {
            throw FerryError.invalidParameter("\(fields.path).rule-action", "'\(actionText)' is not supported; expected one of \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if action == .removeColumn || action == .includeColumn, target != .column {
            throw FerryError.invalidParameter("\(fields.path).rule-action", "\(action.rawValue) needs rule-target column")
        }
        let locator = try fields.child("object-locator")
        try locator.rejectUnknownKeys(allowed: ["schema-name", "table-name", "column-name"])
        self.ruleID = ruleID
        self.target = target
        self.action = action
        self.schema = try SelectionRule.pattern(locator, "schema-name")
        self.table = locator.has("table-name") ? try SelectionRule.pattern(locator, "table-name") : nil
        self.column = locator.has("column-name") ? try SelectionRule.pattern(locator, "column-name") : nil
        if target != .schema, table == nil {
            throw FerryError.invalidParameter("\(locator.path).table-name", "is required for rule-target \(target.rawValue)")
        }
        if target == .column, column == nil {
            throw FerryError.invalidParameter("\(locator.path).column-name", "is required for rule-target column")
        }
        self.value = try fields.optionalString("value")
        self.oldValue = try fields.optionalString("old-value")
        switch action {
        case .rename, .addPrefix, .removePrefix, .addSuffix, .removeSuffix:
            guard value != nil else { throw FerryError.invalidParameter("\(fields.path).value", "is required for \(action.rawValue)") }
        case .replacePrefix, .replaceSuffix:
            guard value != nil else { throw FerryError.invalidParameter("\(fields.path).value", "is required for \(action.rawValue)") }
            guard oldValue != nil else { throw FerryError.invalidParameter("\(fields.path).old-value", "is required for \(action.rawValue)") }
        case .convertLowercase, .convertUppercase, .removeColumn, .includeColumn: break
        }
    }

    /// The name after this rule.
    func apply(to name: String) -> String {
        let value = self.value ?? ""
        switch action {
        case .rename: return value
        case .convertLowercase: return name.lowercased()
        case .convertUppercase: return name.uppercased()
        case .addPrefix: return value + name
        case .addSuffix: return name + value
        case .removePrefix: return name.hasPrefix(value) ? String(name.dropFirst(value.count)) : name
        case .removeSuffix: return name.hasSuffix(value) ? String(name.dropLast(value.count)) : name
        case .replacePrefix:
            let old = oldValue ?? ""
            return name.hasPrefix(old) ? value + name.dropFirst(old.count) : name
        case .replaceSuffix:
            let old = oldValue ?? ""
            return name.hasSuffix(old) ? name.dropLast(old.count) + value : name
        case .removeColumn, .includeColumn: return name
        }
    }
}
