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
