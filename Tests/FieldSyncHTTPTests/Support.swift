import Foundation
import FieldSyncHTTP

/// Runs blocking work on its own thread so a test can wait for it without tying up a
/// thread of Swift's cooperative pool.
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.start()
    }
}

/// The error of a failed request, or nil if it succeeded.
func failure(_ result: Result<HTTPResponse, HTTPError>) -> HTTPError? {
    if case .failure(let error) = result { return error }
    return nil
}

/// Decodes `a=b&c=d` with `%XX` escapes (no `+` for space: the client never sends one).
func decodeQuery(_ raw: String) -> [(String, String)] {
    func decode(_ part: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(part.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
    return raw.split(separator: "&").map { item in
        let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
    }
}
