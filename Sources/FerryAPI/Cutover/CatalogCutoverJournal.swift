import FerryCatalog
import FerryCore
import FerryEngine
import Foundation

/// A task's cutover journal in the catalog: its most recent cutover's record, as a document of the task.
struct CatalogCutoverJournal: CutoverJournal {
    static let document = "cutover"
    let catalog: Catalog
    let taskArn: String

    func save(_ record: CutoverRecord) throws {
        try catalog.setDocument(String(decoding: try CutoverRecord.encoder.encode(record), as: UTF8.self), name: Self.document, for: taskArn)
    }

    func load() throws -> CutoverRecord? {
        guard let text = try catalog.document(Self.document, for: taskArn) else { return nil }
        return try CutoverRecord.decoder.decode(CutoverRecord.self, from: Data(text.utf8))
    }
}
