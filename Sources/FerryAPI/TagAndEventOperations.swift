import FerryCatalog
import Foundation

extension DMSService {
    /// Throws ResourceNotFoundFault unless the ARN names an endpoint, instance, task, assessment run or subnet group.
    func requireResource(_ arn: String?) throws -> String {
        guard let arn, !arn.isEmpty else { throw DMSError.invalidParameter("ResourceArn is required.") }
        for kind in [Catalog.Kind.endpoint, .instance, .task, .assessmentRun, .subnetGroup, .certificate, .replicationConfig] where try catalog.get(kind, arn: arn, as: IgnoredBody.self) != nil {
            return arn
        }
        throw DMSError.notFound("Resource \(arn) not found.")
    }

    func addTags(_ input: AddTagsToResourceMessage) throws -> AddTagsToResourceResponse {
        let arn = try requireResource(input.ResourceArn)
        for tag in input.Tags ?? [] where (tag.Key ?? "").isEmpty {
            throw DMSError.invalidParameter("Every tag needs a non-empty Key.")
        }
        try storeTags(input.Tags, for: arn)
        return AddTagsToResourceResponse()
    }

    func removeTags(_ input: RemoveTagsFromResourceMessage) throws -> RemoveTagsFromResourceResponse {
        let arn = try requireResource(input.ResourceArn)
        try catalog.removeTags(input.TagKeys ?? [], from: arn)
        return RemoveTagsFromResourceResponse()
    }

    func listTags(_ input: ListTagsForResourceMessage) throws -> ListTagsForResourceResponse {
        let arns = (input.ResourceArn.map { [$0] } ?? []) + (input.ResourceArnList ?? [])
        guard !arns.isEmpty else { throw DMSError.invalidParameter("ResourceArn or ResourceArnList is required.") }
        var list: [Tag] = []
        for arn in arns {
            _ = try requireResource(arn)
            list += try catalog.tags(of: arn).map { Tag(Key: $0.key, Value: $0.value, ResourceArn: arn) }
        }
        return ListTagsForResourceResponse(TagList: list)
    }

    func describeEvents(_ input: DescribeEventsMessage) throws -> DescribeEventsResponse {
        let page = try Page(marker: input.Marker, maxRecords: input.MaxRecords)
        let end = input.EndTime ?? Date()
        let start = input.StartTime ?? end.addingTimeInterval(-Double(input.Duration ?? 60) * 60)
        let events = try catalog.events(from: start, to: end).filter { event in
            (input.SourceIdentifier == nil || input.SourceIdentifier == event.sourceIdentifier)
                && (input.SourceType == nil || input.SourceType == event.sourceType)
                && (input.EventCategories?.isEmpty ?? true || !Set(input.EventCategories!).isDisjoint(with: event.categories))
        }
        let (items, marker) = page.slice(events)
        return DescribeEventsResponse(Marker: marker, Events: items.map {
            Event(SourceIdentifier: $0.sourceIdentifier, SourceType: $0.sourceType, Message: $0.message,
                  EventCategories: $0.categories, Date: $0.date)
        })
    }
}

/// Decodes any JSON object, to check that a resource exists without caring for its shape.
struct IgnoredBody: Decodable {}
