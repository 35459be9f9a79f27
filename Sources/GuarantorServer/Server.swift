import Crypto
import Foundation
import GuarantorCore
import GuarantorStore
import Hummingbird
import NIOCore

/// Runs the API on an address until SIGTERM or SIGINT, then shuts down gracefully (Hummingbird's ServiceGroup).
public enum GuarantorServerRunner {
    /// Builds the application; `onRunning` gets the bound port (useful with port 0).
    public static func application(
        api: GuarantorAPI, host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: api.router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "guarantor"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
    }
}

/// A simulated feed for `serve --demo`: the simulator's observations and deliveries, sent in event-time order,
/// speeded up, so that a newcomer sees incidents and alerts arrive within a minute.
public enum DemoFeed {
    /// Feeds `observations` (in arrival order) into the mission state, `perSecond` a second.
    public static func run(state: MissionState, observations: [Observation], perSecond: Int) async {
        var index = 0
        while index < observations.count {
            let batch = Array(observations[index..<min(index + max(perSecond / 10, 1), observations.count)])
            index += batch.count
            var stamped = batch
            for i in stamped.indices {
                stamped[i].submittedBy = "demo-feed"
                stamped[i].originator = stamped[i].originator ?? Releasability.mission
            }
            _ = try? await state.ingest(stamped)
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// The mission's own clock: when nothing has been stored for `everySeconds`, a `clock` event of the mission at the
/// server's time, so that deadlines, quiet periods and logistics gaps pass on time in a quiet live mission — and,
/// being in the log, identically on replay.
public enum ClockSchedule {
    /// The mission staff member that the clock's events are recorded as.
    public static let actor = Actor(member: Releasability.mission, user: "mission-clock")

    public static func run(state: MissionState, everySeconds: Int, now: @Sendable () -> Timestamp = WallClock.now)
        async
    {
        guard state.mission.coalition != nil, everySeconds > 0 else { return }
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(everySeconds))
            guard await state.quietFor >= .seconds(everySeconds), await state.keepsTheClock else { continue }
            let time = now()
            let tick = GuaranteeAction(clock: time, id: "clock/\(time.rfc3339)", by: actor)
            _ = try? await state.act(MissionAction.guarantee(tick).received(at: time))
        }
    }
}

/// Checkpoints on a cadence: whenever the log has grown since the last one.
public enum CheckpointSchedule {
    public static func run(
        state: MissionState, key: Curve25519.Signing.PrivateKey, index: MerkleIndex, everySeconds: Int
    ) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(everySeconds))
            let latest = (try? state.store.checkpoints(latestOnly: true).first?.signed.checkpoint.size) ?? 0
            guard let head = try? state.store.head().count, head > latest else { continue }
            _ = try? await state.checkpoint(key: key, index: index, time: WallClock.now())
        }
    }
}
