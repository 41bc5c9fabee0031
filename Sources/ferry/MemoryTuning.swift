#if canImport(Glibc)
import Glibc

/// Keeps resident memory close to what Ferry actually holds. Ferry's copies move 1 MB buffers between
/// many short-lived threads; glibc's defaults give each thread its own arena and, after the first large
/// free, serve 1 MB blocks from those arenas and keep them. A fixed mmap threshold returns every large
/// buffer to the system when it is freed, and a small arena count bounds the rest.
enum MemoryTuning {
    /// `M_MMAP_THRESHOLD` and `M_ARENA_MAX` from <malloc.h>, which Swift's Glibc module does not export.
    private static let mmapThreshold: Int32 = -3
    private static let arenaMax: Int32 = -8

    static func apply() {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(mmapThreshold, 256 * 1024)
        _ = mallopt(arenaMax, 4)
    }
}
#else
enum MemoryTuning {
    static func apply() {}
}
#endif
