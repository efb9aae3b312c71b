public import AtelierCore
import Foundation

extension Pricing {
    /// Reads `ATELIER_PRICING`: a JSON object whose keys are model ids (and `default`, for models
    /// not named), each a cost model, e.g.
    /// `{"default": {"credits_per_megapixel": 4}, "sdxl": {"credits_per_megapixel": 6, "reference_steps": 30}}`.
    /// Fields left out keep the built-in values; the error names what is wrong.
    public init(json: String) throws(PricingError) {
        let decoded: [String: CostModel]
        do {
            decoded = try JSONDecoder().decode([String: CostModel].self, from: Data(json.utf8))
        } catch {
            throw PricingError(message: "must be a JSON object of model ids to cost models (\(error))")
        }
        self.init()
        for (name, model) in decoded.sorted(by: { $0.key < $1.key }) {
            do { try model.validate() } catch { throw PricingError(message: "\(name).\(error.field) \(error.message)") }
            if name == "default" {
                defaultModel = model
            } else if let id = ModelID(rawValue: name) {
                models[id] = model
            } else {
                throw PricingError(message: "\"\(name)\" is not a model id")
            }
        }
    }
}

public struct PricingError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { "ATELIER_PRICING \(message)" }
}
