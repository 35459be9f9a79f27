/// The guarantee machine fed as the record grows: everything before the *frontier* is final and taken in; what lies
/// after it is taken on a copy each time results are drawn.
///
/// The frontier is the earliest time an input may still appear at without anyone acting retroactively: the earliest
/// open observation, or watermark − allowed lateness. An input that changes before the frontier (an analyst rejects
/// an incident whose finding already counted, an answer dated in the past) makes the machine start again from the
/// agreement's effective time over every input it holds; that is exact and rare.
struct GuaranteeTrack: Sendable {
    let config: GuaranteeEngine
    private(set) var machine: GuaranteeMachine
    /// Inputs before this time are in `machine`.
    var frontier = Int64.min
    /// The inputs that can matter, of every incident that is no longer open and of every action, by unit.
    var ledger: [String: [GuaranteeInput]] = [:]
    var versions: [String: Int] = [:]
    /// Ledger inputs at or after the frontier, not yet taken in.
    private var upcoming = MinHeap<Upcoming>()
    /// The inputs of open incidents, by unit.
    private var tentative: [String: [GuaranteeInput]] = [:]
    var actions: [GuaranteeAction] = []
    var mustRestart = false
    /// How often the machine started again (for tests and metrics).
    private(set) var restarts = 0

    struct Upcoming: Comparable, Sendable {
        var key: EventKey
        var unit: String
        var version: Int
        var input: GuaranteeInput
        static func < (l: Upcoming, r: Upcoming) -> Bool { l.key < r.key }
        static func == (l: Upcoming, r: Upcoming) -> Bool { l.key == r.key && l.unit == r.unit }
    }

    init(config: GuaranteeEngine) {
        self.config = config
        machine = GuaranteeMachine(config: config)
    }

    /// Sets the inputs of a unit that is no longer open (empty: it has none).
    mutating func setLedger(_ unit: String, _ inputs: [GuaranteeInput]) {
        let old = ledger[unit] ?? []
        if old.isEmpty && inputs.isEmpty { return }
        if old.contains(where: { $0.time < frontier }) || inputs.contains(where: { $0.time < frontier }) {
            mustRestart = true
        }
        let version = (versions[unit] ?? 0) + 1
        versions[unit] = version
        ledger[unit] = inputs.isEmpty ? nil : inputs
        for input in inputs where input.time >= frontier {
            upcoming.push(Upcoming(key: input.key, unit: unit, version: version, input: input))
        }
    }

    /// Sets the inputs of an open unit (empty: it has none).
    mutating func setTentative(_ unit: String, _ inputs: [GuaranteeInput]) {
        tentative[unit] = inputs.isEmpty ? nil : inputs
    }

    /// A member's answer, delivery or clock event.
    mutating func add(_ action: GuaranteeAction) {
        actions.append(action)
        setLedger("\u{1}" + action.id, [.action(action)])
    }

    /// Takes in every ledger input before `time`.
    mutating func advance(to time: Int64) {
        if mustRestart { restart() }
        guard time > frontier else { return }
        var due: [GuaranteeInput] = []
        while let next = upcoming.first, next.key.time < time {
            upcoming.pop()
            if versions[next.unit] == next.version { due.append(next.input) }
        }
        machine.run(due, upUntil: time)
        frontier = time
    }

    /// Starts again from the effective time, over every input held, up to the frontier.
    private mutating func restart() {
        mustRestart = false
        restarts += 1
        machine = GuaranteeMachine(config: config)
        upcoming = MinHeap()
        var before: [GuaranteeInput] = []
        for (unit, inputs) in ledger {
            for input in inputs {
                if input.time < frontier {
                    before.append(input)
                } else {
                    upcoming.push(Upcoming(key: input.key, unit: unit, version: versions[unit]!, input: input))
                }
            }
        }
        before.sort { $0.key < $1.key }
        machine.run(before, upUntil: frontier)
    }

    /// The guarantee as of `clock`: a copy of the machine takes every input not yet taken in.
    mutating func results(clock: Timestamp, facts: FactIndex) -> GuaranteeResults {
        if mustRestart { restart() }
        var rest = upcoming.elements.filter { versions[$0.unit] == $0.version }.map(\.input)
        for inputs in tentative.values { rest += inputs }
        rest.sort { $0.key < $1.key }
        var copy = machine
        copy.run(rest, upTo: clock.nanoseconds, including: true)
        return copy.results(clock: clock, actions: actions, facts: facts.facts)
    }
}

extension GuaranteeMachine {
    /// Takes the inputs (sorted) and the machine's own events before `limit`.
    mutating func run(_ inputs: [GuaranteeInput], upUntil limit: Int64) { run(inputs, upTo: limit, including: false) }
}
