import Foundation
import TaskABI

/// A directive's options for one task, checked against what the task registered, with the
/// registered defaults filled in.
struct TaskOptionValues {
    struct Entry {
        var option: TaskDescription.Option
        var text: String
        var isSet: Bool
        var value: OptionValueParser.Value?
    }

    private(set) var entries: [Entry] = []

    init(_ description: TaskDescription, _ given: [(name: String, value: String)]) throws {
        for (name, _) in given where description.options.first(where: { $0.name == name }) == nil {
            let known = description.options.map(\.name).joined(separator: ", ")
            throw TaskInstanceError("\(description.name): unknown option '\(QuotedInput.quote(name))' (options: \(known))")
        }
        for option in description.options {
            let given = given.first { $0.name == option.name }?.value
            // A task reads option values as C strings: a NUL would silently cut them short.
            if let given, let zero = given.utf8.firstIndex(of: 0) {
                let position = given.utf8.distance(from: given.utf8.startIndex, to: zero) + 1
                throw TaskInstanceError("\(description.name): option '\(option.name)': a NUL byte at byte \(position)")
            }
            guard let text = given ?? option.defaultValue else {
                entries.append(Entry(option: option, text: "", isSet: false, value: nil))
                continue
            }
            switch OptionValueParser.parse(text, as: option.type) {
            case .success(let value):
                entries.append(Entry(option: option, text: text, isSet: given != nil, value: value))
            case .failure(let error):
                throw TaskInstanceError("\(description.name): option '\(option.name)': \(error)")
            }
        }
    }

    /// Calls `body` with the options as the ABI's array of `tawon_option_value` pointers.
    func withCValues<Result>(
        _ body: (UnsafePointer<UnsafePointer<tawon_option_value>?>, UInt32) -> Result
    ) -> Result {
        let strings = entries.flatMap { [strdup($0.option.name)!, strdup($0.text)!] }
        defer { strings.forEach { free($0) } }
        let values = UnsafeMutablePointer<tawon_option_value>.allocate(capacity: max(entries.count, 1))
        defer { values.deallocate() }
        let pointers = UnsafeMutablePointer<UnsafePointer<tawon_option_value>?>.allocate(
            capacity: max(entries.count, 1))
        defer { pointers.deallocate() }
        for (index, entry) in entries.enumerated() {
            values[index] = cValue(entry, name: strings[2 * index], text: strings[2 * index + 1])
            pointers[index] = UnsafePointer(values + index)
        }
        return body(UnsafePointer(pointers), UInt32(entries.count))
    }

    private func cValue(
        _ entry: Entry, name: UnsafeMutablePointer<CChar>, text: UnsafeMutablePointer<CChar>
    ) -> tawon_option_value {
        var value = tawon_option_value()
        value.struct_size = UInt32(MemoryLayout<tawon_option_value>.size)
        value.name = UnsafePointer(name)
        value.text = UnsafePointer(text)
        value.is_set = entry.isSet ? 1 : 0
        switch entry.option.type {
        case .string: value.type = tawon_option_type(TAWON_OPTION_STRING)
        case .bool: value.type = tawon_option_type(TAWON_OPTION_BOOL)
        case .int64: value.type = tawon_option_type(TAWON_OPTION_INT64)
        }
        switch entry.value {
        case .bool(let flag): value.bool_value = flag ? 1 : 0
        case .int64(let number): value.int_value = number
        default: break
        }
        return value
    }
}
