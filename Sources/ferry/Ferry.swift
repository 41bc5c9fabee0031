import ArgumentParser

@main
struct Ferry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "Moves databases between PostgreSQL, MySQL/MariaDB and SQLite: full load, with CDC and validation to come.",
        subcommands: [Migrate.self, Demo.self]
    )
}
