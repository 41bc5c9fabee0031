/// A mapping rule that matched no selected table or column, found by ``TableMappings/unmatchedRules(in:)``.
public struct UnmatchedRule: Sendable, Equatable, CustomStringConvertible {
    public var ruleID: String
    /// The rule's object-locator, e.g. `schema-name 'app', table-name 'customers', column-name 'emial'`.
    public var locator: String
    /// Whether every name in the locator is literal. Such a rule names something that is not there, which
    /// is an error; a rule with a wildcard that matches nothing only earns a warning.
    public var literal: Bool

    public var description: String { "rule '\(ruleID)'.object-locator: \(locator) matches no selected table or column" }

    /// The error a literal rule that matches nothing is.
    public var error: FerryError {
        FerryError.invalidParameter("rule '\(ruleID)'.object-locator", "\(locator) matches no selected table or column")
    }
}

extension TableMappings {
    /// The include, transformation and table-settings rules that match none of `tables` (the selected
    /// source tables) or, for a column rule, none of their columns. Exclude rules are not judged: the
    /// tables they match are not among the selected ones. Explicit rules report their missing table themselves.
    public func unmatchedRules(in tables: [TableSchema]) -> [UnmatchedRule] {
        var unmatched: [UnmatchedRule] = []
        func check(_ ruleID: String, _ names: [(field: String, pattern: Wildcard)], matches: (TableSchema) -> Bool) {
            guard !tables.contains(where: matches) else { return }
            unmatched.append(UnmatchedRule(ruleID: ruleID, locator: names.map { "\($0.field) '\($0.pattern)'" }.joined(separator: ", "),
                                           literal: names.allSatisfy(\.pattern.isExact)))
        }
        for rule in selections where rule.action == .include {
            check(rule.ruleID, [("schema-name", rule.schema), ("table-name", rule.table)]) { rule.matches($0.id) }
        }
        for rule in transformations {
            let names = [("schema-name", rule.schema)] + [rule.table.map { ("table-name", $0) }, rule.column.map { ("column-name", $0) }].compactMap { $0 }
            check(rule.ruleID, names) { table in
                rule.schema.matches(table.id.schema) && (rule.table?.matches(table.id.name) ?? true)
                    && (rule.column.map { column in table.columns.contains { column.matches($0.name) } } ?? true)
            }
        }
        for rule in tableSettings {
            check(rule.ruleID, [("schema-name", rule.schema), ("table-name", rule.table)]) { rule.matches($0.id) }
        }
        return unmatched.sorted { RuleOrder.precedes($0.ruleID, $1.ruleID) }
    }
}

/// The tables one mapping rule applies to, found by ``TableMappings/matches(in:)``: what the console shows
/// beside each rule.
public struct RuleMatch: Sendable, Equatable {
    public var ruleID: String
    /// `selection`, `transformation` or `table-settings`.
    public var ruleType: String
    /// The rule's rule-action (`include`, `rename`, …); nil for table-settings.
    public var action: String?
    /// The rule's object-locator, e.g. `schema-name 'app', table-name '%'`.
    public var locator: String
    public var tables: [TableID]
}

extension TableMappings {
    /// Which of `tables` each rule names, in rule order. An exclude rule names tables the task does not
    /// copy, so it matches none of the task's own; a column rule is matched by its schema and table.
    public func matches(in tables: [TableID]) -> [RuleMatch] {
        func locator(_ names: [(String, Wildcard?)]) -> String {
            names.compactMap { field, pattern in pattern.map { "\(field) '\($0)'" } }.joined(separator: ", ")
        }
        var found = selections.map { rule in
            RuleMatch(ruleID: rule.ruleID, ruleType: "selection", action: rule.action.rawValue,
                      locator: locator([("schema-name", rule.schema), ("table-name", rule.table)]), tables: tables.filter(rule.matches))
        }
        found += transformations.map { rule in
            RuleMatch(ruleID: rule.ruleID, ruleType: "transformation", action: rule.action.rawValue,
                      locator: locator([("schema-name", rule.schema), ("table-name", rule.table), ("column-name", rule.column)]),
                      tables: tables.filter { rule.schema.matches($0.schema) && (rule.table?.matches($0.name) ?? true) })
        }
        found += tableSettings.map { rule in
            RuleMatch(ruleID: rule.ruleID, ruleType: "table-settings", action: nil,
                      locator: locator([("schema-name", rule.schema), ("table-name", rule.table)]), tables: tables.filter(rule.matches))
        }
        return found.sorted { RuleOrder.precedes($0.ruleID, $1.ruleID) }
    }
}
