import Foundation
@testable import Host
import Testing

@Suite("The JSON object check on emitted records")
struct JSONObjectCheckTests {
    static func check(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBytes { JSONObjectCheck.isObject($0) }
    }

    @Test("Objects pass, whatever their strings hold", arguments: [
        #"{}"#, #"{"a":1}"#, #" {"a":[1,2.5,-3e4,true,false,null,{"b":"c"}]} "#,
        #"{"long":"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop"}"#,
        #"{"escapes":"a\"b\\c\/d\n\t\u00e9 and more text after them to cross a word"}"#,
        #"{"utf8":"ééééééééé日本語のテキスト😀😀 past eight bytes"}"#,
    ])
    func valid(text: String) {
        #expect(Self.check(text))
        #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any])
    }

    @Test("Every quote, backslash and control byte is found wherever it falls in a word")
    func stopsAtEveryOffset() throws {
        // The scan reads string content eight bytes at a time: put each kind of stop at every
        // offset of the first three words, and let a strict parser say what is valid.
        let stops = [#"\""#, #"\\"#, #"\n"#, #"\u00e9"#, "\"", "\n", "\u{1}", "\u{1f}", #"\"#, "é"]
        for stop in stops {
            for offset in 0..<24 {
                let padding = String(repeating: "a", count: offset)
                let text = #"{"key":""# + padding + stop + "tail of the string past a word" + #""}"#
                let strict = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any]
                #expect(Self.check(text) == strict, "\(text.debugDescription)")
            }
        }
    }

    @Test("Anything else fails", arguments: [
        "", "[]", "\"text\"", #"{"a":1"#, #"{"a":1}}"#, #"{a:1}"#, #"{"a":01x}"#,
        "{\"abcdefghijklmnop\nqrstuvwxyz\":1}", "{\"abcdefgh\u{1}ijklmnop\":1}", #"{"abcdefghijklm\qrs":1}"#,
        #"{"abcdefghijklmnopqrstuvwxyz0123456789"#, #"{"a":"b"} {"c":"d"}"#, #"{"a":tru}"#,
    ])
    func invalid(text: String) {
        #expect(!Self.check(text))
    }
}
