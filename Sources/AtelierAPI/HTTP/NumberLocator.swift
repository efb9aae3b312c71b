import AtelierWire
import Foundation

/// Finds the field behind Foundation's "not valid JSON" when the JSON is valid but a number
/// does not fit its Swift type (`-1` for a `UInt32`, `1.5` for an `Int`): Foundation reports
/// that without a coding path, and "params.seed" is what a client needs to hear.
///
/// Runs only on that error path: each numeric leaf (at most `limit`) is replaced by `0` in
/// turn, and the first whose replacement removes the path-less error is the culprit.
enum NumberLocator {
    static let limit = 64

    static func unrepresentableNumber<T: Decodable>(decoding type: T.Type, from data: Data) -> String? {
        guard let root = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return nil }
        var leaves: [[PathComponent]] = []
        collectNumbers(root, path: [], into: &leaves)
        for path in leaves {
            let patched = replacing(root, at: path[...], with: 0)
            guard let candidate = try? JSONSerialization.data(withJSONObject: patched, options: [.fragmentsAllowed]) else { continue }
            do {
                _ = try WireCoding.decoder().decode(T.self, from: candidate)
                return render(path)
            } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
                continue
            } catch DecodingError.typeMismatch(_, let context) where render(context.codingPath.map(PathComponent.init)) == render(path) {
                continue // a boolean replaced by 0: not a number field
            } catch {
                return render(path)
            }
        }
        return nil
    }

    enum PathComponent: Equatable {
        case key(String)
        case index(Int)

        init(_ key: any CodingKey) {
            self = key.intValue.map(PathComponent.index) ?? .key(key.stringValue)
        }
    }

    private static func collectNumbers(_ value: Any, path: [PathComponent], into leaves: inout [[PathComponent]]) {
        guard leaves.count < limit else { return }
        switch value {
        case let object as [String: Any]:
            for key in object.keys.sorted() { collectNumbers(object[key]!, path: path + [.key(key)], into: &leaves) }
        case let array as [Any]:
            for (index, element) in array.enumerated() { collectNumbers(element, path: path + [.index(index)], into: &leaves) }
        case is NSNumber:
            leaves.append(path)
        default:
            break
        }
    }

    private static func replacing(_ value: Any, at path: ArraySlice<PathComponent>, with replacement: Any) -> Any {
        guard let first = path.first else { return replacement }
        switch (first, value) {
        case (.key(let key), var object as [String: Any]):
            object[key] = replacing(object[key] as Any, at: path.dropFirst(), with: replacement)
            return object
        case (.index(let index), var array as [Any]) where array.indices.contains(index):
            array[index] = replacing(array[index], at: path.dropFirst(), with: replacement)
            return array
        default:
            return value
        }
    }

    private static func render(_ path: [PathComponent]) -> String {
        var text = ""
        for component in path {
            switch component {
            case .key(let key): text += text.isEmpty ? key : ".\(key)"
            case .index(let index): text += "[\(index)]"
            }
        }
        return text.isEmpty ? "$" : text
    }
}
