import Testing
import Yams
@Test func placeholder() { #expect(Bool(true)) }
