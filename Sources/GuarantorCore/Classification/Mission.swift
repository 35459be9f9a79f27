/// Everything the engine needs to know about a mission, validated and indexed: the agreement, the line, the
/// sectors, the sources, and which side of the line belongs to which party.
public struct Mission: Sendable {
    public let agreement: Agreement
    public private(set) var line: CeasefireLine
    public private(set) var sectors: SectorMap
    public let sources: SourceRegistry
    /// What the parties declared (declarations.json).
    public let declarations: Declarations
    /// The coalition and its trigger book (coalition.json, triggers.json); without them there is no guarantee
    /// engine, only verification.
    public var coalition: Coalition?
    public var triggers: TriggerBook?

    /// Rule ids a trigger may name: the agreement's rules and the findings about declarations.
    public var ruleIds: [String] {
        agreement.rules.map(\.id) + ["noDeclaration", "awayFromDeclaredSite", "missingFromDeclaredSite"]
    }
    /// The index in `agreement.parties` of the party whose side is the line's left.
    public private(set) var leftParty: Int
    /// The zones' half-widths, narrowest first (as `agreement.zones`).
    private let zoneWidths: [Double]

    /// How close to the line a party's reference point may be, metres.
    public static let minimumReferenceDistance = 1_000.0

    /// Why a mission cannot be assembled, with the part of the configuration at fault.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        /// The file (agreement.json, sources.json, the line or sectors file).
        public var file: String
        public var error: FieldError
        public var description: String { "\(file): \(error)" }
    }

    /// Builds a mission from its parts.
    /// - Parameters:
    ///   - lineParts: the parts of the line, already read from agreement.json or its line file.
    ///   - areas: the sector polygons when the agreement names a sectors file.
    ///   - files: file names to use in errors (`agreement`, `line`, `sectors`).
    public init(
        agreement: Agreement, lineParts: [[GeoPoint]], areas: [GeoJSON.NamedArea]?, sources: SourceRegistry,
        declarations: Declarations = .none, lineFile: String = "agreement.json",
        agreementFile: String = "agreement.json"
    ) throws {
        self.agreement = agreement
        self.sources = sources
        self.declarations = declarations
        zoneWidths = agreement.zones.map(\.halfWidthMeters)
        (line, leftParty) = try Self.place(
            lineParts, parties: agreement.parties, lineFile: lineFile, agreementFile: agreementFile)
        switch agreement.sectors {
        case .alongLine(let stretch): sectors = SectorMap.stretches(of: stretch, lineLength: line.lengthMeters)
        case .areas: sectors = .areas(AreaIndex(areas: areas ?? []))
        }
    }

    /// A line checked and indexed, and the index of the party whose side is its left: each party's reference point
    /// must lie clearly on its own side.
    static func place(_ lineParts: [[GeoPoint]], parties: [Party], lineFile: String, agreementFile: String) throws
        -> (CeasefireLine, Int)
    {
        let line: CeasefireLine
        do {
            line = try CeasefireLine(parts: lineParts)
        } catch let error as GeometryError {
            throw Problem(file: lineFile, error: FieldError(path: "coordinates" + error.path, reason: error.reason))
        }
        let positions = parties.map { line.locate($0.referencePoint) }
        for (i, position) in positions.enumerated() where position.distanceMeters < Self.minimumReferenceDistance {
            throw Problem(
                file: agreementFile,
                error: FieldError(
                    path: "parties[\(i)].referencePoint",
                    reason:
                        "is \(Int(position.distanceMeters)) m from the line; it must lie clearly on the party's side (≥ \(Int(Self.minimumReferenceDistance)) m)"
                ))
        }
        guard positions[0].isLeft != positions[1].isLeft else {
            throw Problem(
                file: agreementFile,
                error: FieldError(path: "parties", reason: "both reference points lie on the same side of the line"))
        }
        return (line, positions[0].isLeft ? 0 : 1)
    }

    /// The same mission under another line (a candidate's): sides, distances and zones follow it, and sectors drawn
    /// along the line are drawn along it; sectors that are areas stay as they are.
    /// - Throws: ``Problem`` naming `file` when the line is not valid, or the agreement when a party's reference point
    ///   does not lie clearly on its side of it.
    public func replacingLine(_ parts: [[GeoPoint]], file: String) throws -> Mission {
        var copy = self
        (copy.line, copy.leftParty) = try Self.place(
            parts, parties: agreement.parties, lineFile: file, agreementFile: "agreement.json")
        if case .alongLine(let stretch) = agreement.sectors {
            copy.sectors = SectorMap.stretches(of: stretch, lineLength: copy.line.lengthMeters)
        }
        return copy
    }

    /// Where a point lies: side, distance, position along the line, zones and sector.
    @inline(__always) public func classify(_ point: GeoPoint) -> Classification {
        let position = line.locate(point)
        var zones: UInt64 = 0
        for (i, width) in zoneWidths.enumerated() where position.distanceMeters <= width {
            zones |= 1 << UInt64(i)
        }
        let sector = sectors.sector(of: point, alongLineMeters: position.alongLineMeters)
        return Classification(
            party: position.isLeft ? leftParty : 1 - leftParty, distanceToLineMeters: position.distanceMeters,
            alongLineMeters: position.alongLineMeters, zones: zones, sector: sector.map(Int32.init) ?? -1)
    }
}

/// Where one point lies relative to the agreement's line, zones and sectors.
public struct Classification: Sendable, Equatable {
    /// Index of the party on whose side it lies.
    public var party: Int
    public var distanceToLineMeters: Double
    public var alongLineMeters: Double
    /// Bit i is set when the point lies in the agreement's zone i (zones sorted narrowest first).
    public var zones: UInt64
    /// Index of its sector, or -1 for none.
    public var sector: Int32

    public init(party: Int, distanceToLineMeters: Double, alongLineMeters: Double, zones: UInt64, sector: Int32) {
        self.party = party
        self.distanceToLineMeters = distanceToLineMeters
        self.alongLineMeters = alongLineMeters
        self.zones = zones
        self.sector = sector
    }
}

extension Mission {
    /// The ids of the zones in a classification's zone set, narrowest first.
    public func zoneIds(_ zones: UInt64) -> [String] {
        agreement.zones.indices.filter { zones & (1 << UInt64($0)) != 0 }.map { agreement.zones[$0].id }
    }

    /// One line of observations.ndjson: `id`, `side`, `distanceToLineMeters`, `alongLineMeters`, `zones`, `sector`,
    /// distances rounded to centimetres.
    public func classificationLine(id: String, _ c: Classification, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id"); writer.string(id)
        writer.key("side"); writer.string(agreement.parties[c.party].id)
        writer.key("distanceToLineMeters"); writer.number(c.distanceToLineMeters, decimals: 2)
        writer.key("alongLineMeters"); writer.number(c.alongLineMeters, decimals: 2)
        writer.key("zones")
        writer.beginArray()
        for id in zoneIds(c.zones) { writer.string(id) }
        writer.endArray()
        writer.key("sector")
        if c.sector >= 0 { writer.string(sectors.names[Int(c.sector)]) } else { writer.null() }
        writer.endObject()
    }
}
