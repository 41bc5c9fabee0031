import Foundation
import Logging

/// Writes to the terminal: lines on standard output, errors on standard error.
enum Terminal {
    static var isInteractive: Bool { isatty(STDOUT_FILENO) == 1 }

    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data(("error: " + text + "\n").utf8))
    }

    static func warning(_ text: String) {
        FileHandle.standardError.write(Data(("warning: " + text + "\n").utf8))
    }
}

/// Turns Ctrl-C (SIGINT) and SIGTERM into a call to `onInterrupt`, once.
final class InterruptHandler: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "ferry.interrupt")
    private var interrupted = false

    init(onInterrupt: @escaping @Sendable () -> Void) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { [unowned self] in
                guard !interrupted else { return }
                interrupted = true
                FileHandle.standardError.write(Data("\nstopping: starting nothing new, cancelling running copies…\n".utf8))
                onInterrupt()
            }
            source.resume()
            sources.append(source)
        }
    }

    func stop() {
        sources.forEach { $0.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// Logging for the command line.
enum CLILogging {
    /// The CLI's logger: warnings and errors only, unless `verbose`; the progress display says the rest.
    static func logger(verbose: Bool, label: String = "ferry") -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }
}
