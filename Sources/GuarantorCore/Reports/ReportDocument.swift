/// A report as blocks of text, tables and figures, written out as one self-contained HTML page (inline style and SVG,
/// no external resource) or as Markdown (figures left out, with their captions). Both come from the same blocks, so
/// they state the same counts; neither holds a wall-clock time, so the same record gives the same bytes.
public struct ReportDocument: Sendable {
    /// One block of the report.
    public enum Block: Sendable {
        case heading(String)
        case subheading(String)
        case paragraph(String)
        case list([String])
        /// A table: its header and rows; columns after the first are numbers (right-aligned) when `numeric`.
        case table(header: [String], rows: [[String]], numeric: Bool)
        /// An SVG drawing and its caption.
        case figure(svg: String, caption: String)
    }

    public var title: String
    public var marking: String
    public var language: ReportLanguage
    public var blocks: [Block] = []

    public init(title: String, marking: String, language: ReportLanguage) {
        self.title = title
        self.marking = marking
        self.language = language
    }

    public mutating func add(_ block: Block) { blocks.append(block) }

    /// The page: UTF-8 HTML, printable on A4.
    public func html() -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="\(language.rawValue)">
            <head>
            <meta charset="utf-8">
            <title>\(Self.escape(title))</title>
            <style>
            @page { size: A4; margin: 16mm 14mm; }
            body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #111; max-width: 190mm; margin: 0 auto; }
            h1 { font-size: 16pt; margin: 4pt 0; } h2 { font-size: 12.5pt; margin: 14pt 0 4pt; border-bottom: 1px solid #999; }
            h3 { font-size: 11pt; margin: 10pt 0 3pt; }
            .marking { font-weight: bold; letter-spacing: 0.5pt; }
            table { border-collapse: collapse; margin: 4pt 0 8pt; }
            th, td { border: 1px solid #bbb; padding: 2pt 5pt; text-align: left; vertical-align: top; }
            th { background: #eee; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
            figure { margin: 6pt 0; page-break-inside: avoid; } figcaption { font-size: 8.5pt; color: #444; }
            svg { max-width: 100%; height: auto; } footer { margin-top: 16pt; font-size: 8pt; color: #555; }
            </style>
            </head>
            <body>
            <p class="marking">\(Self.escape(marking))</p>
            <h1>\(Self.escape(title))</h1>

            """
        for block in blocks {
            switch block {
            case .heading(let text): out += "<h2>\(Self.escape(text))</h2>\n"
            case .subheading(let text): out += "<h3>\(Self.escape(text))</h3>\n"
            case .paragraph(let text): out += "<p>\(Self.escape(text))</p>\n"
            case .list(let items):
                out += "<ul>\n"
                for item in items { out += "<li>\(Self.escape(item))</li>\n" }
                out += "</ul>\n"
            case .table(let header, let rows, let numeric):
                out += "<table>\n<tr>" + header.map { "<th>\(Self.escape($0))</th>" }.joined() + "</tr>\n"
                for row in rows {
                    out += "<tr>"
                    for (c, cell) in row.enumerated() {
                        out += numeric && c > 0 ? "<td class=\"n\">" : "<td>"
                        out += Self.escape(cell) + "</td>"
                    }
                    out += "</tr>\n"
                }
                out += "</table>\n"
            case .figure(let svg, let caption):
                out += "<figure>\n\(svg)\n<figcaption>\(Self.escape(caption))</figcaption>\n</figure>\n"
            }
        }
        out += "<p class=\"marking\">\(Self.escape(marking))</p>\n</body>\n</html>\n"
        return out
    }

    /// The same report as Markdown.
    public func markdown() -> String {
        var out = "**\(marking)**\n\n# \(title)\n\n"
        for block in blocks {
            switch block {
            case .heading(let text): out += "## \(text)\n\n"
            case .subheading(let text): out += "### \(text)\n\n"
            case .paragraph(let text): out += "\(text)\n\n"
            case .list(let items): out += items.map { "- \($0)\n" }.joined() + "\n"
            case .table(let header, let rows, let numeric):
                func row(_ cells: [String]) -> String {
                    "| " + cells.map { $0.replacingAll("|", with: "\\|") }.joined(separator: " | ") + " |\n"
                }
                out += row(header)
                out += "|" + header.indices.map { numeric && $0 > 0 ? " ---: |" : " --- |" }.joined() + "\n"
                for r in rows { out += row(r) }
                out += "\n"
            case .figure(_, let caption): out += "*\(caption)* (figure in report.html)\n\n"
            }
        }
        return out + "**\(marking)**\n"
    }

    /// Text made safe inside HTML elements and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}

extension String {
    /// This text with every `target` replaced by `replacement`.
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
