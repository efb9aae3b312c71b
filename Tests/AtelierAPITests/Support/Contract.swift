import AtelierAPI
import Foundation
import Testing
import Yams

/// The OpenAPI document as a checker: every answer a test receives must be documented for its
/// path, method and status, and its JSON body must fit the documented schema.
final class Contract: Sendable {
    static let shared = Contract()

    /// The parsed document; YAML maps become `[String: Any]`.
    nonisolated(unsafe) let document: [String: Any]

    private init() {
        let text = String(decoding: AtelierServer.openAPIDocument, as: UTF8.self)
        document = ((try? Yams.load(yaml: text)) as? [String: Any]) ?? [:]
    }

    var paths: [String: Any] { document["paths"] as? [String: Any] ?? [:] }

    /// `(method, path)` for every operation in the document.
    var operations: Set<String> {
        var result: Set<String> = []
        for (path, item) in paths {
            for method in (item as? [String: Any] ?? [:]).keys where ["get", "post", "put", "delete", "patch"].contains(method) {
                result.insert("\(method) \(path)")
            }
        }
        return result
    }

    /// The documented path template matching a concrete path; a literal segment wins over a
    /// parameter (`/v1/jobs/estimate` before `/v1/jobs/{id}`), as in the router.
    func template(for path: String) -> String? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return paths.keys.filter { template in
            let parts = template.split(separator: "/", omittingEmptySubsequences: false)
            // The tile route's last parameter spans the rest of the path (see its description).
            let spansRest = template.hasPrefix("/v1/ledger/tile/") && parts.last == "{path}"
            guard parts.count == segments.count || (spansRest && segments.count > parts.count) else { return false }
            return zip(parts, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }.min { $0.filter { $0 == "{" }.count < $1.filter { $0 == "{" }.count }
    }

    func check(method: String, url: String, response: APIResponse) throws {
        guard let components = URLComponents(string: url) else { return }
        let path = components.path
        guard let template = template(for: path),
              let operation = (paths[template] as? [String: Any])?[method] as? [String: Any] else {
            // Unknown routes must still answer with a documented problem.
            #expect(response.status == 404 || response.status == 405, "undocumented operation \(method) \(path) answered \(response.status)")
            #expect(response.problem != nil, "\(method) \(path) answered without a problem document")
            return
        }
        let responses = operation["responses"] as? [String: Any] ?? [:]
        guard var documented = responses[String(response.status)] as? [String: Any] else {
            Issue.record("\(method) \(template) answered \(response.status), which the document does not list: \(response.text)")
            return
        }
        if let reference = documented["$ref"] as? String { documented = resolve(reference) }
        let content = documented["content"] as? [String: Any] ?? [:]
        guard !content.isEmpty else { return }
        let mediaType = response.headers.first(name: "Content-Type")?.split(separator: ";").first.map(String.init) ?? ""
        guard let entry = content[mediaType] as? [String: Any] ?? (content.keys.contains("application/octet-stream") ? [:] : nil) else {
            Issue.record("\(method) \(template) \(response.status) answered \(mediaType); documented: \(content.keys.sorted())")
            return
        }
        guard mediaType.hasSuffix("json"), let schema = entry["schema"] as? [String: Any] else { return }
        let value = try JSONSerialization.jsonObject(with: response.body, options: [.fragmentsAllowed])
        let errors = validate(value, against: schema, at: "$")
        #expect(errors.isEmpty, "\(method) \(template) \(response.status) does not fit the document: \(errors)")
    }

    func resolve(_ reference: String) -> [String: Any] {
        var node: Any = document
        for part in reference.dropFirst(2).split(separator: "/") {
            node = (node as? [String: Any])?[String(part)] ?? [:]
        }
        return node as? [String: Any] ?? [:]
    }

    /// A JSON Schema subset: $ref, oneOf, type (incl. lists), enum, required, properties, items.
    func validate(_ value: Any, against schema: [String: Any], at path: String) -> [String] {
        if let reference = schema["$ref"] as? String { return validate(value, against: resolve(reference), at: path) }
        if let options = schema["oneOf"] as? [[String: Any]] {
            return options.contains { validate(value, against: $0, at: path).isEmpty } ? [] : ["\(path) matches no oneOf option"]
        }
        var errors: [String] = []
        let types: [String] = (schema["type"] as? String).map { [$0] } ?? (schema["type"] as? [String]) ?? []
        if !types.isEmpty && !types.contains(where: { Self.isOfType(value, $0) }) {
            return ["\(path) is \(Swift.type(of: value)), documented as \(types)"]
        }
        if let allowed = schema["enum"] as? [Any], let text = value as? String,
           !allowed.contains(where: { "\($0)" == text }) {
            errors.append("\(path) = \(text) is not one of \(allowed)")
        }
        if let object = value as? [String: Any] {
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                errors.append("\(path).\(key) is required")
            }
            for (key, property) in schema["properties"] as? [String: Any] ?? [:] {
                if let child = object[key], let property = property as? [String: Any] {
                    errors += validate(child, against: property, at: "\(path).\(key)")
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (index, element) in array.enumerated() { errors += validate(element, against: items, at: "\(path)[\(index)]") }
        }
        return errors
    }

    static func isOfType(_ value: Any, _ type: String) -> Bool {
        switch type {
        case "null": return value is NSNull
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        case "string": return value is String
        case "boolean": return value is Bool || value is NSNumber
        case "integer":
            guard let number = value as? NSNumber, !(value is Bool) || value is Int else { return false }
            return number.doubleValue.rounded() == number.doubleValue
        case "number": return value is NSNumber
        default: return true
        }
    }
}
