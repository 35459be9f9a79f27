/// Who may read a record, from its TLP 2.0 marking, its originating member and its named recipients (DESIGN §2.6).
///
/// | marking | readable by |
/// | --- | --- |
/// | CLEAR | anyone |
/// | GREEN (and no marking) | every coalition member |
/// | AMBER | the originator, the mission's own staff (`MISSION`), and the named recipients |
/// | AMBER+STRICT | the originator and the named recipients |
/// | RED | the originator and the named recipients |
///
/// Releasability is set when a record is created and never widened: every output is filtered with this function
/// before it is produced.
public enum Releasability {
    /// The mission's own staff (analysts of the monitoring centre) as a member id.
    public static let mission = "MISSION"

    /// The reader of the public view (no key): it reads only what is marked TLP:CLEAR, whoever sent it.
    public static let publicReader = "PUBLIC"

    /// Whether a user of `member` may read a record marked `tlp` that came from `originator`.
    public static func canRead(member: String, tlp: TLP?, originator: String?, recipients: [String]) -> Bool {
        if member == publicReader { return tlp == .clear }
        let origin = originator ?? mission
        if member == origin || recipients.contains(member) { return true }
        switch tlp ?? .green {
        case .clear, .green: return true
        case .amber: return member == mission
        case .amberStrict, .red: return false
        }
    }

    /// Whether an observation is restricted (AMBER or above): every read that returns it is audited.
    public static func isRestricted(_ o: Observation) -> Bool {
        switch o.tlp ?? .green {
        case .clear, .green: false
        case .amber, .amberStrict, .red: true
        }
    }

    /// Whether a user of `member` may read an observation.
    public static func canRead(member: String, _ o: Observation) -> Bool {
        canRead(member: member, tlp: o.tlp, originator: o.originator, recipients: o.recipients)
    }
}
