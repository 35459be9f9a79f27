import Foundation

/// The reports' drawings as inline SVG: a map of the line, sites and incidents, and grouped bar charts. Coordinates are
/// written with one decimal, so the same input gives the same bytes.
public enum ReportFigures {
    /// Colours of incidents by status (as on the dashboard).
    public static let statusColours: [IncidentStatus: String] = [
        .reported: "#8d99a6", .corroborated: "#f0a202", .verified: "#d7263d", .disputed: "#7b2cbf",
        .rejected: "#c9d3dc",
    ]
    /// Colours of chart series, in order.
    public static let seriesColours = ["#1f4e79", "#c0392b", "#7f8c8d", "#27ae60", "#8e44ad", "#d35400"]

    /// A dot on the map.
    public struct Dot: Sendable {
        public var point: GeoPoint
        public var colour: String
        public var radius: Double
        public var title: String
        public init(point: GeoPoint, colour: String, radius: Double, title: String) {
            self.point = point
            self.colour = colour
            self.radius = radius
            self.title = title
        }
    }

    /// A map fitted to `focus` (or to the line when `focus` is empty), widened by `margin` degrees: the line's parts,
    /// protected sites as squares, and the dots, largest first so small ones stay visible.
    public static func map(
        line: [[GeoPoint]], sites: [ProtectedSite], dots: [Dot], focus: [GeoPoint] = [], margin: Double = 0.3,
        legend: [(label: String, colour: String)] = [], width: Double = 700
    ) -> String {
        let fitTo = focus.isEmpty ? line.flatMap { $0 } + dots.map(\.point) : focus
        guard !fitTo.isEmpty else { return "" }
        let minLon = fitTo.map(\.lon).min()! - margin, maxLon = fitTo.map(\.lon).max()! + margin
        var minLat = fitTo.map(\.lat).min()! - margin, maxLat = fitTo.map(\.lat).max()! + margin
        // Equirectangular at the middle latitude; never flatter than 1:3.
        let midLat = (minLat + maxLat) / 2
        let kx = cos(midLat * .pi / 180)
        if (maxLat - minLat) < (maxLon - minLon) * kx / 3 {
            let grow = ((maxLon - minLon) * kx / 3 - (maxLat - minLat)) / 2
            minLat -= grow
            maxLat += grow
        }
        let scale = width / ((maxLon - minLon) * kx)
        let height = ((maxLat - minLat) * scale).rounded()
        func x(_ p: GeoPoint) -> String { fixed((p.lon - minLon) * kx * scale) }
        func y(_ p: GeoPoint) -> String { fixed((maxLat - p.lat) * scale) }
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(fixed(width)) \(fixed(height))\" width=\"\(fixed(width))\" height=\"\(fixed(height))\" role=\"img\">"
        out +=
            "<defs><clipPath id=\"frame\"><rect width=\"\(fixed(width))\" height=\"\(fixed(height))\"/></clipPath></defs>"
        out +=
            "<rect width=\"\(fixed(width))\" height=\"\(fixed(height))\" fill=\"#f4f1ea\" stroke=\"#999\"/><g clip-path=\"url(#frame)\">"
        for part in line where part.count >= 2 {
            out +=
                "<polyline fill=\"none\" stroke=\"#111\" stroke-width=\"2\" points=\""
                + part.map { "\(x($0)),\(y($0))" }.joined(separator: " ") + "\"/>"
        }
        for site in sites {
            out +=
                "<rect x=\"\(fixed((site.location.lon - minLon) * kx * scale - 4))\" y=\"\(fixed((maxLat - site.location.lat) * scale - 4))\" width=\"8\" height=\"8\" fill=\"#fff\" stroke=\"#1f4e79\" stroke-width=\"2\"><title>\(ReportDocument.escape(site.name))</title></rect>"
        }
        // Titles (tooltips) only on a map of few dots: thousands of them would only slow printing.
        let titled = dots.count <= 500
        out += "<g fill-opacity=\"0.8\" stroke=\"#fff\" stroke-width=\"0.5\">"
        for dot in dots.sorted(by: { ($0.radius, $0.title) > ($1.radius, $1.title) }) {
            out +=
                "<circle cx=\"\(x(dot.point))\" cy=\"\(y(dot.point))\" r=\"\(fixed(dot.radius))\" fill=\"\(dot.colour)\""
            out += titled ? "><title>\(ReportDocument.escape(dot.title))</title></circle>" : "/>"
        }
        out += "</g>"
        out += "</g>"
        if !legend.isEmpty {
            out +=
                "<g font-size=\"10\" font-family=\"DejaVu Sans, Arial, sans-serif\"><rect x=\"4\" y=\"4\" width=\"150\" height=\"\(14 * legend.count + 6)\" fill=\"#fff\" fill-opacity=\"0.85\" stroke=\"#bbb\"/>"
            for (i, item) in legend.enumerated() {
                let y = 14 + 14 * i
                out +=
                    "<circle cx=\"13\" cy=\"\(y - 3)\" r=\"4\" fill=\"\(item.colour)\"/><text x=\"22\" y=\"\(y + 1)\">\(ReportDocument.escape(item.label))</text>"
            }
            out += "</g>"
        }
        return out + "</svg>"
    }

    /// A grouped bar chart: one group per label, one bar per series (stacked when `stacked`).
    public static func bars(
        groups: [(label: String, values: [Int])], series: [String], stacked: Bool = false, width: Double = 700,
        height: Double = 220
    ) -> String {
        guard !groups.isEmpty, !series.isEmpty else { return "" }
        let top = groups.map { stacked ? $0.values.reduce(0, +) : ($0.values.max() ?? 0) }.max() ?? 0
        let maxValue = Double(max(top, 1))
        let left = 36.0, bottom = 44.0, legend = 18.0
        let plotWidth = width - left - 6, plotHeight = height - bottom - legend
        let slot = plotWidth / Double(groups.count)
        let barWidth = stacked ? slot * 0.7 : slot * 0.8 / Double(series.count)
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(fixed(width)) \(fixed(height))\" width=\"\(fixed(width))\" height=\"\(fixed(height))\" role=\"img\" font-size=\"9\" font-family=\"DejaVu Sans, Arial, sans-serif\">"
        for (i, name) in series.enumerated() {
            let lx = left + Double(i) * 120
            out +=
                "<rect x=\"\(fixed(lx))\" y=\"2\" width=\"10\" height=\"10\" fill=\"\(colour(i))\"/><text x=\"\(fixed(lx + 14))\" y=\"11\">\(ReportDocument.escape(name))</text>"
        }
        let base = legend + plotHeight
        // Gridlines at a quarter, a half, three quarters and the top.
        for q in 1...4 {
            let value = Int((maxValue * Double(q) / 4).rounded())
            let gy = base - plotHeight * Double(q) / 4
            out +=
                "<line x1=\"\(fixed(left))\" x2=\"\(fixed(width - 6))\" y1=\"\(fixed(gy))\" y2=\"\(fixed(gy))\" stroke=\"#ddd\"/><text x=\"\(fixed(left - 4))\" y=\"\(fixed(gy + 3))\" text-anchor=\"end\">\(value)</text>"
        }
        out +=
            "<line x1=\"\(fixed(left))\" x2=\"\(fixed(width - 6))\" y1=\"\(fixed(base))\" y2=\"\(fixed(base))\" stroke=\"#333\"/>"
        for (g, group) in groups.enumerated() {
            let x0 = left + Double(g) * slot + (stacked ? slot * 0.15 : slot * 0.1)
            var stackTop = base
            for (s, value) in group.values.enumerated() where value > 0 {
                let h = plotHeight * Double(value) / maxValue
                let bx = stacked ? x0 : x0 + Double(s) * barWidth
                let by = stacked ? stackTop - h : base - h
                if stacked { stackTop -= h }
                out +=
                    "<rect x=\"\(fixed(bx))\" y=\"\(fixed(by))\" width=\"\(fixed(barWidth))\" height=\"\(fixed(h))\" fill=\"\(colour(s))\"><title>\(ReportDocument.escape(group.label)): \(ReportDocument.escape(series[s])) \(value)</title></rect>"
            }
            let label = group.label.count > 14 ? String(group.label.prefix(13)) + "…" : group.label
            out +=
                "<text x=\"\(fixed(left + (Double(g) + 0.5) * slot))\" y=\"\(fixed(base + 12))\" text-anchor=\"middle\">\(ReportDocument.escape(label))</text>"
        }
        return out + "</svg>"
    }

    static func colour(_ i: Int) -> String { seriesColours[i % seriesColours.count] }

    /// A number with one decimal, the same bytes on every machine.
    static func fixed(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let magnitude = abs(tenths)
        return magnitude % 10 == 0 ? "\(sign)\(magnitude / 10)" : "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }
}
