import ArgumentParser

@main
struct Ferry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "Moves databases between PostgreSQL, MySQL/MariaDB and SQLite: full load, validation, and an AWS DMS-compatible API (`ferry serve`).",
        subcommands: [Migrate.self, Validate.self, Assess.self, Cutover.self, Rollback.self, Demo.self, Serve.self, Credentials.self, Logs.self]
    )
}
