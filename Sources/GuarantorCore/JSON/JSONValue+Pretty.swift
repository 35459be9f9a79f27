extension JSONValue {
    /// Indented JSON (two spaces, members sorted) for configuration files that people edit; numbers and strings are
    /// written as ``JSONWriter`` writes them.
    public var prettyPrinted: String {
        var out = ""
        write(into: &out, indent: "")
        return out + "\n"
    }

    private func write(into out: inout String, indent: String) {
        let inner = indent + "  "
        switch self {
        case .array(let items) where items.isEmpty: out += "[]"
        case .array(let items)
        where items.allSatisfy({
            if case .array = $0 { return false }; if case .object = $0 { return false }; return true
        }):
            var w = JSONWriter()
            w.value(self)
            out += w.string
        case .array(let items):
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += inner
                item.write(into: &out, indent: inner)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += indent + "]"
        case .object(let members) where members.isEmpty: out += "{}"
        case .object(let members):
            out += "{\n"
            let keys = members.keys.sorted()
            for (i, key) in keys.enumerated() {
                var w = JSONWriter()
                w.string(key)
                out += inner + w.string + ": "
                members[key]!.write(into: &out, indent: inner)
                out += i == keys.count - 1 ? "\n" : ",\n"
            }
            out += indent + "}"
        default:
            var w = JSONWriter()
            w.value(self)
            out += w.string
        }
    }
}
