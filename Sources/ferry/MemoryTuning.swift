#if canImport(Glibc)
import Glibc

/// Keeps resident memory close to what Ferry actually holds. Ferry's copies move 1 MB buffers between
/// many short-lived threads; glibc's defaults give each thread its own arena and, after the first large
/// free, serve 1 MB blocks from those arenas and keep them. A fixed mmap threshold returns every large
/// buffer to the system when it is freed, and a small arena count bounds the rest.
enum MemoryTuning {
    static func apply() {
        _ = mallopt(M_MMAP_THRESHOLD, 256 * 1024)
        _ = mallopt(M_ARENA_MAX, 4)
    }
}
#else
enum MemoryTuning {
    static func apply() {}
}
#endif
