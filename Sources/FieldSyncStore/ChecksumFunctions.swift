import FieldSyncCore
import FieldSyncSQLite
import GRDB
import GRDBSQLite

/// `fieldsync_sum_add(sum, id, version)` and `fieldsync_sum_sub(sum, id, version)`: the
/// stored sum (decimal text of a UInt64) moved by the term of `(id, version)`
/// (``ScopeChecksum/term(orderId:version:)``), as decimal text again. The
/// `confirmed_order` triggers call them (``ClientSchema``, migration v4) for every row a
/// pull stores. A sum that does not parse counts as 0, so the sync's comparison with the
/// server fails and repairs the scope; an id that is not text or a version that is not an
/// integer leaves the sum as it is.
///
/// Registered through SQLite's C API: through GRDB's `DatabaseFunction`, each call boxed
/// its three arguments as `DatabaseValue`s and its result, 2.5% of a first sync's
/// instructions, on the thread that stores the pages.
enum ChecksumFunctions {
    static func register(_ db: Database) throws {
        for (name, tag) in [("fieldsync_sum_add", addTag), ("fieldsync_sum_sub", subtractTag)] {
            let code = sqlite3_create_function_v2(
                db.sqliteConnection, name, 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC, tag, checksumStep, nil, nil, nil)
            guard code == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot register \(name)")
            }
        }
    }
}

/// The functions' user data: which way the term moves the sum.
private var addTag: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: 1) }
private var subtractTag: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: 2) }

private func checksumStep(
    _ context: OpaquePointer?, _ count: Int32, _ arguments: UnsafeMutablePointer<OpaquePointer?>?
) {
    guard let arguments, count == 3 else { return sqlite3_result_null(context) }
    let sum = text(arguments[0]).flatMap { UInt64($0) } ?? 0
    guard sqlite3_value_type(arguments[1]) == SQLITE_TEXT, let version = integer(arguments[2]) else {
        return result(context, sum)
    }
    let id = UnsafeBufferPointer(
        start: sqlite3_value_text(arguments[1]), count: Int(sqlite3_value_bytes(arguments[1])))
    let term = ScopeChecksum.term(orderIdUTF8: id, version: version)
    result(context, sqlite3_user_data(context) == subtractTag ? sum &- term : sum &+ term)
}

/// A text value as a String; nil for any other type.
private func text(_ value: OpaquePointer?) -> String? {
    guard sqlite3_value_type(value) == SQLITE_TEXT else { return nil }
    let bytes = UnsafeBufferPointer(start: sqlite3_value_text(value), count: Int(sqlite3_value_bytes(value)))
    return String(decoding: bytes, as: UTF8.self)
}

/// An integer value, or a real one holding a whole number; nil for any other.
private func integer(_ value: OpaquePointer?) -> Int64? {
    switch sqlite3_value_type(value) {
    case SQLITE_INTEGER: sqlite3_value_int64(value)
    case SQLITE_FLOAT: Int64(exactly: sqlite3_value_double(value))
    default: nil
    }
}

private func result(_ context: OpaquePointer?, _ sum: UInt64) {
    var text = String(sum)
    text.withUTF8 { bytes in
        sqlite3_result_text(context, bytes.baseAddress, Int32(bytes.count), sqliteTransient)
    }
}
