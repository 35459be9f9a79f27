/// Deterministic batch processing (DESIGN §3.3): observations in arrival order in, output files' bytes out.
///
/// Runs on event time only; the same mission and input give the same bytes on any machine.
public enum Replay {
    /// The files a replay writes, by name.
    public struct Output: Sendable {
        /// `observations.ndjson`: each observation's classification, in input order.
        public var observations: [UInt8]
        /// The classifications themselves, in input order.
        public var classifications: [Classification]
    }

    /// Classifies every observation of a batch.
    /// - Parameter progress: called with the number done so far, every `progressEvery` observations.
    public static func run(
        mission: Mission, batch: ObservationBatch, progressEvery: Int = 100_000,
        progress: (Int) -> Void = { _ in }
    ) -> Output {
        var writer = JSONWriter(capacity: batch.observations.count * 200)
        var classifications: [Classification] = []
        classifications.reserveCapacity(batch.observations.count)
        for (i, observation) in batch.observations.enumerated() {
            let c = mission.classify(observation.location.point)
            classifications.append(c)
            mission.classificationLine(id: observation.id, c, into: &writer)
            writer.newline()
            if (i + 1) % progressEvery == 0 { progress(i + 1) }
        }
        return Output(observations: writer.bytes, classifications: classifications)
    }
}
