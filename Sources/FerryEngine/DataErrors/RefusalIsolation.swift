import FerryCore

/// Finds what a target refuses without giving up on the rest: a refused group is halved until each
/// refused item stands alone, so that good items still go in groups. Pure: applying a group and handling
/// a lone refused item are given by the caller.
enum RefusalIsolation {
    /// Applies `items`; `refused` gets each item the target refuses on its own (a data error). Other
    /// errors, and whatever `refused` throws, end the work.
    static func apply<Item>(_ items: ArraySlice<Item>, _ apply: (ArraySlice<Item>) throws -> Void,
                            refused: (Item, FerryError) throws -> Void) throws {
        guard let first = items.first else { return }
        do {
            try apply(items)
        } catch let error as FerryError where error.kind == .dataError {
            guard items.count > 1 else {
                try refused(first, error)
                return
            }
            let middle = items.startIndex + items.count / 2
            try self.apply(items[..<middle], apply, refused: refused)
            try self.apply(items[middle...], apply, refused: refused)
        }
    }
}
