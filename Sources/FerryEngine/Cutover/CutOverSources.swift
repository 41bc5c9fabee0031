import FerryCore

extension SourceConnector {
    /// Refuses to copy tables a completed cutover moved away: they no longer receive the application's
    /// writes, and a load or a stream from them would put stale rows over the database that does.
    func refuseCutOver(_ plans: [TablePlan]) throws {
        let fenced = try fencedTables(plans.map(\.source.id))
        guard !fenced.isEmpty else { return }
        throw FerryError(.invalidParameter, "\(fenced.map(\.description).joined(separator: ", ")) moved to another database in a Ferry cutover (the tables carry its write fence): copying them now would overwrite the new database with stale rows. Move back with `ferry rollback`, or end the migration with `ferry cutover --complete`")
    }
}
