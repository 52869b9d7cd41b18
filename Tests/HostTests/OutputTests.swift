import Foundation
import Host
import JSONText
import Testing

@Suite("Output: JSON text, timestamps, IDs, envelope")
struct OutputTests {
    @Test("RFC 3339 timestamps agree with the C library, around leap days and the epoch", arguments: [
        Int64(0), 951_782_400_123_456_789, 1_702_332_239_277_299_703, 4_102_444_799_999_999_999, -1,
    ])
    func timestamps(nanoseconds: Int64) {
        let seconds = nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : -1
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let expected = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec),
            Int(nanoseconds - seconds * 1_000_000_000))
        #expect(RFC3339.format(nanosecondsSinceEpoch: nanoseconds) == expected)
        var cache = RFC3339.SecondCache()
        var text = JSONText()
        cache.append(nanosecondsSinceEpoch: nanoseconds, to: &text)
        #expect(text.string == expected)
    }

    @Test("JSON strings are escaped as RFC 8259 requires; numbers print exactly")
    func jsonText() throws {
        var text = JSONText()
        text.raw("[")
        text.string("plain")
        text.raw(",")
        text.string("q\"b\\n\n\t\u{1}é")
        text.raw(",")
        text.number(Int64.min)
        text.raw(",")
        text.number(UInt64.max)
        text.raw(",")
        text.number(UInt32(0))
        text.raw("]")
        #expect(text.string == #"["plain","q\"b\\n\n\t\u0001é",-9223372036854775808,18446744073709551615,0]"#)
        let parsed = try JSONSerialization.jsonObject(with: Data(text.bytes)) as? [Any]
        #expect(parsed?[1] as? String == "q\"b\\n\n\t\u{1}é")
    }

    @Test("IDs have the sample's form and are unique")
    func identifiers() {
        let ids = (0..<1000).map { _ in Identifier.next() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy(Identifier.isValid))
        #expect(Identifier.isValid("clroeh9eo0msn9golhkg"))  // the seed's directiveID
        #expect(!Identifier.isValid("CLROEH9EO0MSN9GOLHKG"))
    }

    @Test("The tawonID survives restarts")
    func installationIdentity() throws {
        let directory = try TestSupport.temporaryDirectory("state")
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = InstallationIdentity.load(directory: directory.path)
        #expect(Identifier.isValid(first))
        #expect(InstallationIdentity.load(directory: directory.path) == first)
    }

    @Test("The envelope has the seed's shape and key order")
    func envelope() throws {
        let record = EmittedRecord(
            taskName: "syscalls", directiveID: "clroeh9eo0msn9golhkg",
            json: #"{"function":"write"}"#, timestampNanoseconds: 1_702_332_239_277_299_703)
        let source = OutputSource(hostname: "8e77aad68513", instanceID: "clroefpeo0msnck6dus0", tawonID: "cfr7vtqm49rliqd1vs0g")
        #expect(OutputEnvelope.json(record, source: source)
            == #"{"data":[{"data":{"function":"write"},"type":"syscalls"}],"src":{"directiveID":"clroeh9eo0msn9golhkg","hostname":"8e77aad68513","instanceID":"clroefpeo0msnck6dus0","name":"syscalls","tawonID":"cfr7vtqm49rliqd1vs0g"},"timestamp":"2023-12-11T22:03:59.277299703Z"}"#)
    }
}
