public import Foundation

/// The JSON conventions of the API: ISO 8601 times with milliseconds, in UTC.
public enum WireCoding {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatTimestamp(date))
        }
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 time: \(text)")
            }
            return date
        }
        return decoder
    }

    /// `2026-11-22T21:42:35.187Z`: UTC, milliseconds (rounded). Done by arithmetic (Howard
    /// Hinnant's days-to-civil) because Foundation's ISO 8601 format style was a tenth of the
    /// CPU time of reading a job.
    public static func formatTimestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (days, millisecondOfDay) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        let dayNumber = millisecondOfDay < 0 ? days - 1 : days
        let inDay = millisecondOfDay < 0 ? millisecondOfDay + 86_400_000 : millisecondOfDay
        // Days since 1970-01-01 to year, month, day in the proleptic Gregorian calendar.
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)

        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func put(_ value: Int64, width: Int) {
            var digits = [UInt8](repeating: 0x30, count: width)
            var rest = value
            for index in stride(from: width - 1, through: 0, by: -1) {
                digits[index] = 0x30 + UInt8(rest % 10)
                rest /= 10
            }
            bytes.append(contentsOf: digits)
        }
        put(year, width: 4); bytes.append(0x2D)
        put(month, width: 2); bytes.append(0x2D)
        put(day, width: 2); bytes.append(0x54)
        put(inDay / 3_600_000, width: 2); bytes.append(0x3A)
        put(inDay / 60_000 % 60, width: 2); bytes.append(0x3A)
        put(inDay / 1000 % 60, width: 2); bytes.append(0x2E)
        put(inDay % 1000, width: 3); bytes.append(0x5A)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func parseTimestamp(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) {
            return date
        }
        return try? Date(text, strategy: .iso8601)
    }
}
