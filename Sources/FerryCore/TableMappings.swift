import Foundation

/// A DMS table-mapping document (`{"rules": [...]}`): which tables to copy and how to name them.
///
/// Selection rules (include, exclude, explicit; `%`/`_` wildcards; source filters), transformations
/// (renames, case conversion, prefixes and suffixes, remove-column, include-column, add-column with an
/// expression, change-data-type, define-primary-key, data masking) and table settings are applied.
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

    /// The LOB mode a table-settings rule gives a table (the last one that names it), if any.
    public func lobMode(of table: TableID) -> TableSettingsRule.LobMode? {
        tableSettings.last { $0.matches(table) && $0.lob != nil }?.lob
    }

    /// The table-settings rule that decides how a table is read in parallel (the last one that names it).
    public func parallelLoad(of table: TableID) -> (ruleID: String, load: TableSettingsRule.ParallelLoad)? {
        tableSettings.last { $0.matches(table) && $0.parallelLoad != nil }.flatMap { rule in rule.parallelLoad.map { (rule.ruleID, $0) } }
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
        var computed: [ComputedColumn] = []
        var definedKey: DefinedKey?
        var beforeImage: BeforeImageColumns?
        var schemaNamed = false, tableNamed = false
        var columnsNamed: Set<String> = []
        var tableRules: [String] = []
        for rule in transformations where rule.schema.matches(table.id.schema) {
            switch rule.target {
            case .schema:
                // As in DMS, one action per object: the rule with the lowest rule-id wins.
                guard !schemaNamed else { continue }
                schema = rule.apply(to: schema)
                schemaNamed = true
                tableRules.append(rule.ruleID)
            case .table:
                guard rule.table?.matches(table.id.name) ?? true else { continue }
                if let key = rule.primaryKey {
                    guard definedKey == nil else { continue }
                    definedKey = try Self.resolve(key, rule: rule, in: table, columns: columns)
                } else {
                    guard !tableNamed else { continue }
                    name = rule.apply(to: name)
                    tableNamed = true
                }
                tableRules.append(rule.ruleID)
            case .column:
                guard rule.table?.matches(table.id.name) ?? true else { continue }
                if rule.action == .addColumn, let type = rule.dataType, let value = rule.value {
                    guard !columns.contains(where: { $0.targetName == value }), !computed.contains(where: { $0.name == value }) else {
                        throw FerryError.invalidParameter("rule '\(rule.ruleID)'.value", "\(table.id) already has a column '\(value)'")
                    }
                    computed.append(ComputedColumn(ruleID: rule.ruleID, name: value, type: type, expression: rule.expression ?? "NULL"))
                    continue
                }
                if let image = rule.beforeImage {
                    beforeImage = image
                    continue
                }
                // A rule whose column matches no table at all is reported by `unmatchedRules(in:)`.
                let matching = columns.indices.filter { rule.column?.matches(columns[$0].source.name) ?? true }
                switch rule.action {
                case .removeColumn:
                    let removed = Set(matching.map { columns[$0].source.name })
                    columns.removeAll { removed.contains($0.source.name) }
                case .includeColumn:
                    included.formUnion(matching.map { columns[$0].source.name })
                case .changeDataType:
                    for i in matching where columns[i].targetType == nil
                        && rule.sourceDataType.map({ DMSDataType.matches(columns[i].source.type, $0) }) ?? true {
                        columns[i].targetType = rule.dataType
                        columns[i].ruleIDs.append(rule.ruleID)
                    }
                case .dataMaskingDigitsMask, .dataMaskingDigitsRandomize, .dataMaskingHashMask:
                    if let key = matching.first(where: { table.primaryKey.contains(columns[$0].source.name) }) {
                        throw FerryError.invalidParameter("rule '\(rule.ruleID)'.object-locator.column-name",
                                                          "'\(columns[key].source.name)' is part of the primary key of \(table.id); masking it would break applying changes by key")
                    }
                    for i in matching where columns[i].masking == nil {
                        columns[i].masking = rule.masking
                        columns[i].ruleIDs.append(rule.ruleID)
                    }
                default:
                    for i in matching where !columnsNamed.contains(columns[i].source.name) {
                        columns[i].targetName = rule.apply(to: columns[i].targetName)
                        columns[i].ruleIDs.append(rule.ruleID)
                        columnsNamed.insert(columns[i].source.name)
                    }
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
        var plan = TablePlan(source: table, target: TableID(schema: schema, name: name), columns: columns, filters: filters,
                             computed: computed, definedKey: definedKey)
        plan.beforeImage = beforeImage
        plan.ruleIDs = tableRules
        let taken = Set(columns.map(\.targetName) + computed.map(\.name))
        if let clash = plan.beforeImageColumns.first(where: { taken.contains($0.name) }) {
            throw FerryError.invalidParameter("TableMappings", "the before-image column '\(clash.name)' of \(table.id) would take the name of a column the table already has")
        }
        if !computed.isEmpty { _ = try RowTransformer(plan: plan) }
        return plan
    }

    /// A define-primary-key rule's columns as source names; each may be given by its target or source name.
    private static func resolve(_ key: DefinedKey, rule: TransformationRule, in table: TableSchema, columns: [ColumnPlan]) throws -> DefinedKey {
        var resolved = key
        resolved.columns = try key.columns.map { name in
            guard let column = columns.first(where: { $0.targetName == name }) ?? columns.first(where: { $0.source.name == name }) else {
                throw FerryError.invalidParameter("rule '\(rule.ruleID)'.primary-key-def.columns", "column '\(name)' is not a column of \(table.id) that the task copies")
            }
            return column.source.name
        }
        return resolved
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
        // An explicit rule names one table: its names are taken literally, `%` and `_` included.
        self.schema = try Self.name(locator, "schema-name", literal: action == .explicit)
        self.table = try Self.name(locator, "table-name", literal: action == .explicit)
        if let order = try fields.stringOrNumber("load-order") {
            guard let value = Int(order) else {
                throw FerryError.invalidParameter("\(fields.path).load-order", "expected an integer, got '\(order)'")
            }
            self.loadOrder = value
        } else {
            self.loadOrder = 0
        }
    }

    /// A locator name: literal for rules that name exactly one object, otherwise a wildcard pattern.
    static func name(_ locator: JSONFields, _ key: String, literal: Bool) throws -> Wildcard {
        literal ? Wildcard(literal: try locator.string(key)) : try pattern(locator, key)
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

/// A `transformation` rule: renames schemas, tables or columns; removes, includes, adds, retypes or masks
/// columns; or defines a table's key.
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
        case addColumn = "add-column"
        case changeDataType = "change-data-type"
        case definePrimaryKey = "define-primary-key"
        case dataMaskingDigitsMask = "data-masking-digits-mask"
        case dataMaskingDigitsRandomize = "data-masking-digits-randomize"
        case dataMaskingHashMask = "data-masking-hash-mask"
        case addBeforeImageColumns = "add-before-image-columns"

        /// Actions that act on the columns of a table rather than on a name.
        var isColumnAction: Bool {
            switch self {
            case .removeColumn, .includeColumn, .addColumn, .changeDataType, .dataMaskingDigitsMask,
                 .dataMaskingDigitsRandomize, .dataMaskingHashMask, .addBeforeImageColumns: return true
            default: return false
            }
        }
    }

    public var ruleID: String
    public var target: Target
    public var schema: Wildcard
    public var table: Wildcard?
    public var column: Wildcard?
    public var action: Action
    public var value: String?
    public var oldValue: String?
    /// For change-data-type: only columns of this DMS type (`object-locator.data-type`).
    public var sourceDataType: String?
    /// The add-column expression (SQLite syntax over `$column` references).
    public var expression: String?
    /// The type of an added or retyped column.
    public var dataType: ColumnType?
    /// The key of a define-primary-key rule (column names as given).
    public var primaryKey: DefinedKey?
    /// The mask of a data-masking rule.
    public var masking: DataMasking?
    /// The columns of an add-before-image-columns rule.
    public var beforeImage: BeforeImageColumns?

    init(_ fields: JSONFields, ruleID: String) throws {
        try fields.rejectUnknownKeys(allowed: ["rule-type", "rule-id", "rule-name", "rule-target", "object-locator", "rule-action", "value",
                                               "old-value", "expression", "data-type", "primary-key-def", "before-image-def"])
        let targetText = try fields.string("rule-target")
        guard let target = Target(rawValue: targetText) else {
            throw FerryError.invalidParameter("\(fields.path).rule-target", "'\(targetText)' is not supported; expected schema, table or column")
        }
        let actionText = try fields.string("rule-action")
        guard let action = Action(rawValue: actionText) else {
            throw FerryError.invalidParameter("\(fields.path).rule-action", "'\(actionText)' is not supported; expected one of \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if action.isColumnAction, target != .column {
            throw FerryError.invalidParameter("\(fields.path).rule-action", "\(action.rawValue) needs rule-target column")
        }
        if action == .definePrimaryKey, target != .table {
            throw FerryError.invalidParameter("\(fields.path).rule-action", "define-primary-key needs rule-target table")
        }
        let locator = try fields.child("object-locator")
        try locator.rejectUnknownKeys(allowed: action == .changeDataType ? ["schema-name", "table-name", "column-name", "data-type"]
                                      : ["schema-name", "table-name", "column-name"])
        self.ruleID = ruleID
        self.target = target
        self.action = action
        if let name = try locator.optionalString("data-type") {
            guard DMSDataType.names.contains(name) else {
                throw FerryError.invalidParameter("\(locator.path).data-type", "unknown data type '\(name)'; expected one of \(DMSDataType.names.joined(separator: ", "))")
            }
            self.sourceDataType = name
        }
        // A key belongs to one table: its names are taken literally.
        let literal = action == .definePrimaryKey
        self.schema = try SelectionRule.name(locator, "schema-name", literal: literal)
        self.table = literal || locator.has("table-name") ? try SelectionRule.name(locator, "table-name", literal: literal) : nil
        self.column = locator.has("column-name") ? try SelectionRule.pattern(locator, "column-name") : nil
        if target != .schema, table == nil {
            throw FerryError.invalidParameter("\(locator.path).table-name", "is required for rule-target \(target.rawValue)")
        }
        if target == .column, column == nil, action != .addColumn, action != .addBeforeImageColumns {
            throw FerryError.invalidParameter("\(locator.path).column-name", "is required for rule-target column")
        }
        self.value = try fields.optionalString("value")
        self.oldValue = try fields.optionalString("old-value")
        self.expression = try fields.optionalString("expression")
        self.dataType = fields.has("data-type") ? try DMSDataType.parse(fields.child("data-type")) : nil
        func require<T>(_ value: T?, _ field: String) throws {
            guard value != nil else { throw FerryError.invalidParameter("\(fields.path).\(field)", "is required for \(action.rawValue)") }
        }
        switch action {
        case .rename, .addPrefix, .removePrefix, .addSuffix, .removeSuffix:
            try require(value, "value")
        case .replacePrefix, .replaceSuffix:
            try require(value, "value")
            try require(oldValue, "old-value")
        case .addColumn:
            try require(value, "value")
            try require(dataType, "data-type")
            if let expression {
                // Parsed now so that a bad expression is refused with the document; references are checked per table.
                _ = try SQLiteExpression(expression, field: "\(fields.path).expression")
            }
        case .changeDataType:
            try require(dataType, "data-type")
        case .definePrimaryKey:
            self.primaryKey = try Self.key(fields.child("primary-key-def"))
        case .dataMaskingDigitsMask:
            try require(value, "value")
            guard let mask = value, mask.count == 1, let character = mask.first, character.isASCII, !character.isWhitespace,
                  character.asciiValue.map({ $0 >= 0x21 && $0 <= 0x7E }) == true else {
                throw FerryError.invalidParameter("\(fields.path).value", "must be one printable ASCII character that is not a space")
            }
            self.masking = .digitsMask(character)
        case .dataMaskingDigitsRandomize:
            self.masking = .digitsRandomize
        case .dataMaskingHashMask:
            self.masking = .hashMask
        case .addBeforeImageColumns:
            self.beforeImage = try Self.beforeImage(fields.has("before-image-def") ? fields.child("before-image-def") : nil)
        case .convertLowercase, .convertUppercase, .removeColumn, .includeColumn: break
        }
    }

    private static func beforeImage(_ fields: JSONFields?) throws -> BeforeImageColumns {
        guard let fields else { return BeforeImageColumns() }
        try fields.rejectUnknownKeys(allowed: ["column-prefix", "column-suffix", "column-filter"])
        let filterText = try fields.optionalString("column-filter") ?? BeforeImageColumns.Filter.primaryKeyOnly.rawValue
        guard let filter = BeforeImageColumns.Filter(rawValue: filterText) else {
            throw FerryError.invalidParameter("\(fields.path).column-filter", "'\(filterText)' is not a filter; expected pk-only, non-lob or all")
        }
        let prefix = try fields.optionalString("column-prefix") ?? "BI_"
        let suffix = try fields.optionalString("column-suffix") ?? ""
        guard !(prefix + suffix).isEmpty else {
            throw FerryError.invalidParameter(fields.path, "column-prefix and column-suffix cannot both be empty: the columns would take the names of the originals")
        }
        return BeforeImageColumns(prefix: prefix, suffix: suffix, filter: filter)
    }

    private static func key(_ fields: JSONFields) throws -> DefinedKey {
        try fields.rejectUnknownKeys(allowed: ["name", "origin", "columns"])
        let originText = try fields.optionalString("origin") ?? DefinedKey.Origin.primaryKey.rawValue
        guard let origin = DefinedKey.Origin(rawValue: originText) else {
            throw FerryError.invalidParameter("\(fields.path).origin", "'\(originText)' is not an origin; expected primary-key or unique-index")
        }
        let columns = try fields.names("columns", of: "column", count: 1...Int.max)
        return DefinedKey(name: try fields.string("name"), origin: origin, columns: columns)
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
        default: return name
        }
    }
}
