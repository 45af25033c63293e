import FieldSyncClient
import FieldSyncStore

/// Generated order ids (`WO-261123-7-001`): unique by construction, see
/// `ClientDatabase.newOrderId(day:)`.
enum OrderIds {
    /// The next id of this device; asks the server for the device's number first when a
    /// login of an older release did not store one.
    static func next(_ options: CommonOptions, now: Int64) throws -> String {
        let (store, account) = try options.openAccount()
        if account.deviceNumber == nil {
            let api = try ServerAPI(server: account.server, token: account.token)
            try store.setDeviceNumber(try api.registerDevice(account.deviceId).number)
        }
        return try store.newOrderId(day: day(now))
    }

    /// `yymmdd` of `now` in the device's time zone.
    static func day(_ now: Int64) -> Int {
        let digits = WallClock.format(now).prefix(10).filter(\.isNumber)
        return Int(digits.dropFirst(2)) ?? 0
    }
}
