//! Applying the catalogue to an inventory under a [`Policy`].

use super::catalogue::{EXAMPLE_NOW, Example, rank, rule};
use super::config::{Policy, RuleSetting, Selector, normalise_fingerprint};
use super::reach::Reach;
use crate::{
    Asset, AssetKind, CertificateInfo, Finding, KeyInfo, Relation, RelationType, RuleId, Severity,
    quantum_vulnerable,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What the caller knows beyond the inventory itself.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// When each asset was first seen (inventory history), by asset id.
    pub first_seen: HashMap<String, OffsetDateTime>,
    /// Trusted roots: SHA-256 of a certificate's DER or of its SPKI (`sha256:` prefix and
    /// colons allowed). System trust store plus the policy's bundles, read by the caller.
    /// The policy's own `[trust] roots` are added by [`evaluate_with`].
    pub trusted_roots: HashSet<String>,
    /// The public (WebPKI) trust list, same form: decides which certificates follow the CA/B
    /// validity schedule. Empty: the heuristic of `cert-validity-too-long` applies.
    pub public_roots: HashSet<String>,
    /// Trust anchors known by name: subject DN or subject key identifier (lowercase hex) of
    /// each trusted root -> whether it is public. A certificate whose issuer DN or authority
    /// key identifier is here chains to that root even when the root is not in the inventory.
    pub anchor_names: HashMap<String, bool>,
    /// Default severity of each X.509 lint id (from `trustmap_discover::lint::LINTS`); a
    /// lint id missing here is reported as low.
    pub lint_severities: HashMap<String, Severity>,
    /// One-line description of each X.509 lint id, for the finding's message (optional).
    pub lint_descriptions: HashMap<String, String>,
    /// Who depends on each asset (consumers, endpoints), when the caller computed it
    /// (the engine does, to report a bound it hit); `None`: [`evaluate_with`] computes it.
    pub reach: Option<Reach>,
    /// Certificates the inventory (store) holds, present and unexpired, for the names the
    /// scan's endpoints serve: `endpoint-serves-stale-certificate` judges a served leaf
    /// against them as well as against this scan's certificates. Empty without a store.
    pub known_certificates: Vec<KnownCertificate>,
}

/// A certificate the inventory holds from earlier scans (see
/// [`Inputs::known_certificates`]).
#[derive(Debug, Clone)]
pub struct KnownCertificate {
    /// Its asset id.
    pub id: String,
    pub certificate: CertificateInfo,
    /// Where it was seen (a path of the inventory).
    pub place: String,
}

/// A certificate for a name, from this scan or from the inventory.
struct Named<'a> {
    id: &'a str,
    cert: &'a CertificateInfo,
    place: &'a str,
}

/// A finding before the policy's re-grading and scopes.
struct Hit {
    rule: String,
    severity: Option<Severity>,
    message: String,
    evidence: BTreeMap<String, String>,
    /// The line within the asset's first place the finding points at, when not the
    /// place's own (a consumer's directive).
    line: Option<u64>,
}

fn hit(rule: impl AsRef<str>, message: String) -> Hit {
    Hit {
        rule: rule.as_ref().to_string(),
        severity: None,
        message,
        evidence: BTreeMap::new(),
        line: None,
    }
}

impl Hit {
    fn ev(mut self, k: &str, v: impl ToString) -> Hit {
        self.evidence.insert(k.to_string(), v.to_string());
        self
    }
    fn sev(mut self, s: Severity) -> Hit {
        self.severity = Some(s);
        self
    }
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// Where a certificate's chain ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End<'a> {
    /// At a trusted certificate (public: in the public list).
    Anchor { public: bool },
    /// At a self-signed certificate that is not trusted.
    Root(&'a str),
    /// At a certificate whose issuer is not in the inventory.
    Broken(&'a str),
}

impl End<'_> {
    fn rank(self) -> u8 {
        match self {
            End::Anchor { public: true } => 3,
            End::Anchor { public: false } => 2,
            End::Root(_) => 1,
            End::Broken(_) => 0,
        }
    }
}

struct Ctx<'a> {
    policy: &'a Policy,
    inputs: &'a Inputs,
    now: OffsetDateTime,
    by_id: HashMap<&'a str, &'a Asset>,
    issued_by: HashMap<&'a str, Vec<&'a str>>,
    key_certs: HashMap<&'a str, Vec<&'a Asset>>,
    /// Endpoint id -> the certificates it serves (its leaf).
    serves: HashMap<&'a str, Vec<&'a Asset>>,
    /// DNS name or CN (lowercase) -> the end-entity certificates naming it, this scan's
    /// and the inventory's; built only when an endpoint serves something.
    by_name: HashMap<String, Vec<Named<'a>>>,
    trusted: HashSet<String>,
    public: HashSet<String>,
}

impl<'a> Ctx<'a> {
    fn in_set(set: &HashSet<String>, a: &Asset) -> bool {
        let fp = a
            .fingerprint
            .strip_prefix("sha256:")
            .unwrap_or(&a.fingerprint);
        set.contains(&fp.to_ascii_lowercase())
            || a.certificate
                .as_ref()
                .and_then(|c| c.public_key.spki_sha256.as_deref())
                .is_some_and(|s| set.contains(&s.to_ascii_lowercase()))
    }

    fn chain_end(&self, id: &'a str, seen: &mut HashSet<&'a str>) -> End<'a> {
        let Some(a) = self.by_id.get(id) else {
            return End::Broken(id);
        };
        if Ctx::in_set(&self.public, a) {
            return End::Anchor { public: true };
        }
        if Ctx::in_set(&self.trusted, a) {
            return End::Anchor { public: false };
        }
        if a.certificate.as_ref().is_some_and(|c| c.self_signed) {
            return End::Root(id);
        }
        if !seen.insert(id) {
            return End::Broken(id);
        }
        let mut best = End::Broken(id);
        if let Some(c) = &a.certificate {
            let by_name = self.inputs.anchor_names.get(&c.issuer);
            let by_aki = c.aki.as_ref().and_then(|k| self.inputs.anchor_names.get(k));
            if let Some(public) = by_name.or(by_aki) {
                best = End::Anchor { public: *public };
            }
        }
        for p in self.issued_by.get(id).into_iter().flatten() {
            if *p == id {
                continue;
            }
            let e = self.chain_end(p, seen);
            if e.rank() > best.rank() {
                best = e;
            }
        }
        best
    }
}

/// Applies the catalogue to an inventory as of `now`, under `policy`, with what the caller
/// knows beyond the inventory in `inputs`. Findings are sorted most severe first, then in
/// catalogue order (X.509 lints after the catalogue, by id), then by path and line.
pub fn evaluate_with(
    assets: &[Asset],
    relations: &[Relation],
    policy: &Policy,
    now: OffsetDateTime,
    inputs: &Inputs,
) -> Vec<Finding> {
    let norm = |set: &HashSet<String>| -> HashSet<String> {
        set.iter()
            .filter_map(|s| normalise_fingerprint(s))
            .collect()
    };
    let mut trusted = norm(&inputs.trusted_roots);
    trusted.extend(policy.trusted_roots.iter().cloned());
    let public = norm(&inputs.public_roots);
    let by_id: HashMap<&str, &Asset> = assets.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut issued_by: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut key_certs: HashMap<&str, Vec<&Asset>> = HashMap::new();
    let mut serves: HashMap<&str, Vec<&Asset>> = HashMap::new();
    for r in relations {
        match r.kind {
            RelationType::IssuedBy => issued_by.entry(&r.from).or_default().push(&r.to),
            RelationType::KeyOf => {
                if let Some(c) = by_id.get(r.to.as_str()).filter(|c| c.certificate.is_some()) {
                    key_certs.entry(&r.from).or_default().push(c);
                }
            }
            RelationType::Serves => {
                if let Some(c) = by_id.get(r.to.as_str()).filter(|c| c.certificate.is_some()) {
                    serves.entry(&r.from).or_default().push(c);
                }
            }
            _ => {}
        }
    }
    let mut by_name: HashMap<String, Vec<Named>> = HashMap::new();
    if !serves.is_empty() {
        for a in assets {
            if let Some(c) = a.certificate.as_ref().filter(|c| !c.is_ca) {
                let place = a.occurrences.first().map_or("", |o| o.path.as_str());
                for n in cert_names(c) {
                    by_name.entry(n).or_default().push(Named {
                        id: &a.id,
                        cert: c,
                        place,
                    });
                }
            }
        }
        for k in &inputs.known_certificates {
            if by_id.contains_key(k.id.as_str()) || k.certificate.is_ca {
                continue;
            }
            for n in cert_names(&k.certificate) {
                by_name.entry(n).or_default().push(Named {
                    id: &k.id,
                    cert: &k.certificate,
                    place: &k.place,
                });
            }
        }
    }
    let ctx = Ctx {
        policy,
        inputs,
        now,
        by_id,
        issued_by,
        key_certs,
        serves,
        by_name,
        trusted,
        public,
    };
    let computed;
    let reach = match &inputs.reach {
        Some(r) => r,
        None => {
            computed = Reach::compute(assets, relations);
            &computed
        }
    };
    let mut out = Vec::new();
    for a in assets {
        let mut hits = Vec::new();
        if let Some(c) = &a.certificate {
            cert_rules(&ctx, a, c, &mut hits);
            // CertificateInfo.lints: X.509 lint ids, each a finding under its own id.
            for id in &c.lints {
                let message = match ctx.inputs.lint_descriptions.get(id) {
                    Some(d) => format!("{}: {d} ({id})", a.label()),
                    None => format!("{} violates X.509 lint {id}", a.label()),
                };
                let severity = ctx
                    .inputs
                    .lint_severities
                    .get(id)
                    .copied()
                    .unwrap_or(Severity::Low);
                hits.push(hit(id, message).sev(severity).ev("lint", id));
            }
        }
        key_rules(&ctx, a, &mut hits);
        if let Some(e) = &a.endpoint {
            endpoint_rules(&ctx, a, e, &mut hits);
        }
        if let Some(s) = &a.secret {
            hits.push(
                hit(
                    RuleId::SecretPlaintext,
                    format!("{} ({}) in plaintext: {}", s.rule, s.provider, s.redacted),
                )
                .ev("detector", &s.rule),
            );
        }
        if let Some(k) = &a.keystore
            && let Some(pw) = &k.opened_with
        {
            let shown = if pw.is_empty() {
                "an empty password".to_string()
            } else {
                format!("the well-known password \"{pw}\"")
            };
            hits.push(
                hit(
                    RuleId::KeystoreDefaultPassword,
                    format!("{} keystore opens with {shown}", k.format),
                )
                .ev("format", &k.format),
            );
        }
        if let Some(k) = &a.keystore
            && let Some(place) = &k.password_in
        {
            hits.push(
                hit(
                    RuleId::KeyPasswordExposed,
                    format!(
                        "{} keystore opens with the password in plaintext at {place}: its protection is void",
                        k.format
                    ),
                )
                .ev("password_in", place),
            );
        }
        if let Some(k) = &a.key
            && let Some(place) = &k.password_in
        {
            hits.push(
                hit(
                    RuleId::KeyPasswordExposed,
                    format!(
                        "encrypted private key opens with the password in plaintext at {place}: its protection is void"
                    ),
                )
                .ev("password_in", place),
            );
        }
        if let Some(c) = &a.consumer {
            for r in c.references.iter().filter(|r| r.resolution == "missing") {
                let line = r.line.map(|l| format!(", line {l}")).unwrap_or_default();
                let mut h = hit(
                    RuleId::ConfigReferenceMissing,
                    format!(
                        "{} {} names {} ({}{line}), which is not in the scanned tree: it fails at its next restart",
                        c.software, c.name, r.value, r.directive
                    ),
                )
                .ev("reference", &r.value)
                .ev("directive", &r.directive);
                h.line = r.line;
                hits.push(h);
            }
        }
        if a.owners.is_empty() && a.kind != AssetKind::Consumer {
            hits.push(hit(
                RuleId::AssetUnowned,
                format!("no owner is known for {} {}", a.kind, a.label()),
            ));
        }
        // Only when the scan saw something that uses material: in a plain tree, everything
        // would be "unused".
        if matches!(a.kind, AssetKind::Certificate | AssetKind::PrivateKey)
            && reach.saw_users
            && reach.cut_short.is_none()
            && reach.of(&a.id).is_none()
        {
            hits.push(hit(
                RuleId::AssetUnused,
                format!(
                    "no consumer or endpoint of this scan uses {} {}, directly or through its chain: a candidate for clean-up",
                    a.kind,
                    a.label()
                ),
            ));
        }
        for h in hits {
            if let Some(f) = finalise(policy, a, h) {
                out.push(f);
            }
        }
    }
    reach.annotate(&mut out, policy);
    sort_findings(&mut out);
    out
}

/// The order findings are reported in: severity (worst first), catalogue rank, rule, path,
/// line, asset. Custom (Rego) findings merged into a report are sorted with it too.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(rank(&a.rule).cmp(&rank(&b.rule)))
            .then(a.rule.cmp(&b.rule))
            .then(a.path.cmp(&b.path))
            .then(a.line.cmp(&b.line))
            .then(a.asset.cmp(&b.asset))
    });
}

/// The policy's `[rules]` and `[[scope]]` applied to one hit.
fn finalise(policy: &Policy, a: &Asset, h: Hit) -> Option<Finding> {
    let r = rule(&h.rule);
    let mut severity = h
        .severity
        .or(r.map(|r| r.severity))
        .unwrap_or(Severity::Medium);
    // A policy the person running the scan did not choose only raises severities.
    let raise_only = policy.raise_only;
    let apply = |setting: RuleSetting, severity: &mut Severity| -> bool {
        match setting {
            RuleSetting::Off => raise_only,
            RuleSetting::On => true,
            RuleSetting::Severity(s) => {
                if !raise_only || s > *severity {
                    *severity = s;
                }
                true
            }
        }
    };
    if !apply(policy.rule_setting(&h.rule), &mut severity) {
        return None;
    }
    let scope = policy.scopes.iter().find(|s| {
        (s.rules.is_empty() || s.rules.contains(&h.rule))
            && !a.occurrences.is_empty()
            && a.occurrences.iter().all(|o| s.matcher.is_match(&o.path))
    });
    if let Some(s) = scope
        && !apply(s.setting, &mut severity)
    {
        return None;
    }
    let first = a.occurrences.first();
    Some(Finding {
        rule: h.rule,
        severity,
        asset: a.id.clone(),
        path: first.map(|o| o.path.clone()),
        line: h.line.or_else(|| first.and_then(|o| o.line)),
        message: h.message,
        frameworks: r
            .map(|r| r.frameworks.iter().map(|s| s.to_string()).collect())
            // X.509 lints: certificate profile conformance (RFC 5280, CA/B BR).
            .unwrap_or_else(|| {
                vec![
                    "NIST-CSF-2.0:PR.AA-01".to_string(),
                    "PCI-DSS-4.0:4.2.1".to_string(),
                ]
            }),
        evidence: h.evidence,
        waiver: None,
        baselined: false,
    })
}

/// Validity period in days, notBefore to notAfter inclusive; a remainder is a whole day.
/// A whole number of days as a message says it: "less than a day", "1 day", "12 days".
fn days(n: i64) -> String {
    match n {
        0 => "less than a day".to_string(),
        1 => "1 day".to_string(),
        n => format!("{n} days"),
    }
}

fn validity_days(nb: OffsetDateTime, na: OffsetDateTime) -> i64 {
    let secs = (na - nb).whole_seconds() + 1;
    secs.div_euclid(86_400) + i64::from(secs.rem_euclid(86_400) != 0)
}

/// CA/B BR 6.3.2 (SC-081v3) maximum by issuance date (notBefore).
pub fn public_max_days(issued: OffsetDateTime) -> u32 {
    use time::macros::datetime;
    if issued < datetime!(2026-03-15 00:00 UTC) {
        398
    } else if issued < datetime!(2027-03-15 00:00 UTC) {
        200
    } else if issued < datetime!(2029-03-15 00:00 UTC) {
        100
    } else {
        47
    }
}

fn selector_matches(sel: &Selector, a: &Asset, c: &CertificateInfo) -> bool {
    match sel {
        Selector::Issuer(_, m) => m.is_match(&c.issuer),
        Selector::Path(_, m) => {
            !a.occurrences.is_empty() && a.occurrences.iter().all(|o| m.is_match(&o.path))
        }
    }
}

fn cert_rules(ctx: &Ctx, a: &Asset, c: &CertificateInfo, hits: &mut Vec<Hit>) {
    let name = a.label();
    let now = ctx.now;
    let nb = Some(c.not_before.get());
    let na = Some(c.not_after.get());
    if let Some(na) = na {
        let secs = (na - now).whole_seconds();
        if na < now {
            hits.push(
                hit(
                    RuleId::CertExpired,
                    format!(
                        "{name} expired on {} ({} ago)",
                        c.not_after,
                        days((now - na).whole_days())
                    ),
                )
                .ev("not_after", c.not_after),
            );
        } else {
            // Windows are most severe first; the first that contains the remaining time
            // grades it. Each is the smaller of its days and its fraction of the lifetime.
            let lifetime = nb.map_or(0, |nb| (na - nb).whole_seconds().max(0));
            let window = ctx.policy.expiry_windows.iter().find(|(sev, _)| {
                ctx.policy
                    .expiry_window_secs(*sev, lifetime)
                    .is_some_and(|w| secs < w)
            });
            if let Some((sev, d)) = window {
                let fraction = ctx
                    .policy
                    .expiry_fractions
                    .iter()
                    .find(|(s, _)| s == sev)
                    .map_or(1.0, |(_, f)| *f);
                hits.push(
                    hit(
                        RuleId::CertExpiring,
                        format!(
                            "{name} expires on {} (in {})",
                            c.not_after,
                            days((na - now).whole_days())
                        ),
                    )
                    .sev(*sev)
                    .ev("not_after", c.not_after)
                    .ev("window_days", d)
                    .ev("window_fraction", fraction)
                    .ev("lifetime_days", lifetime / 86_400),
                );
            }
        }
    }
    if let Some(nb) = nb
        && nb > now
    {
        hits.push(
            hit(
                RuleId::CertNotYetValid,
                format!("{name} is not valid before {}", c.not_before),
            )
            .ev("not_before", c.not_before),
        );
    }
    let anchor = c.self_signed && c.is_ca;
    if !anchor
        && let Some(h) = c.signature_hash.as_deref()
        && !ctx.policy.allowed_hashes.iter().any(|x| x == h)
    {
        hits.push(
            hit(
                RuleId::CertWeakSignature,
                format!("{name} is signed with {} ({h})", c.signature_algorithm),
            )
            .ev("signature_algorithm", &c.signature_algorithm)
            .ev("signature_hash", h),
        );
    }
    let mut seen = HashSet::new();
    let end = ctx.chain_end(&a.id, &mut seen);
    if !c.is_ca
        && let (Some(nb), Some(na)) = (nb, na)
    {
        let days = validity_days(nb, na);
        let ov = ctx
            .policy
            .validity_overrides
            .iter()
            .find(|o| selector_matches(&o.selector, a, c));
        let has_issuer_in_inventory = ctx
            .issued_by
            .get(a.id.as_str())
            .is_some_and(|v| v.iter().any(|p| *p != a.id && ctx.by_id.contains_key(p)));
        let public = match ov {
            Some(o) => o.max_days.is_none(),
            None if !ctx.public.is_empty() || ctx.inputs.anchor_names.values().any(|p| *p) => {
                end == End::Anchor { public: true }
            }
            None => !c.self_signed && !has_issuer_in_inventory && end == End::Broken(a.id.as_str()),
        };
        let (limit, basis) = if public {
            (
                public_max_days(nb),
                "CA/B BR 6.3.2 (SC-081v3) for a certificate issued then",
            )
        } else {
            match ov.and_then(|o| o.max_days) {
                Some(d) => (d, "the policy's limit for this issuer or path"),
                None => (ctx.policy.private_max_days, "the private-PKI limit"),
            }
        };
        if days > i64::from(limit) {
            hits.push(
                hit(
                    RuleId::CertValidityTooLong,
                    format!(
                        "{name} is valid {days} days (from {} to {}); {basis} allows {limit}",
                        c.not_before, c.not_after
                    ),
                )
                .ev("validity_days", days)
                .ev("max_days", limit)
                .ev("trust", if public { "public" } else { "private" }),
            );
        }
    }
    if c.self_signed && !c.is_ca {
        hits.push(hit(
            RuleId::CertSelfSignedLeaf,
            format!("{name} is a self-signed leaf certificate"),
        ));
    }
    let wild: Vec<&str> = c
        .sans
        .iter()
        .filter_map(|s| s.strip_prefix("DNS:"))
        .chain(c.subject_cn.as_deref())
        .filter(|n| n.starts_with("*."))
        .collect();
    if let Some(w) = wild.first() {
        hits.push(
            hit(
                RuleId::CertWildcard,
                format!("{name} covers the wildcard name {w}"),
            )
            .ev("names", wild.join(", ")),
        );
    }
    if !c.is_ca && c.sans.is_empty() {
        hits.push(hit(
            RuleId::CertMissingSan,
            format!("{name} has no subjectAltName: clients will not match its host name"),
        ));
    }
    if !c.is_ca
        && let End::Broken(last) = end
    {
        let at = ctx.by_id.get(last).copied().unwrap_or(a);
        let issuer = at
            .certificate
            .as_ref()
            .map(|c| c.issuer.clone())
            .unwrap_or_default();
        hits.push(
            hit(
                RuleId::CertChainIncomplete,
                format!(
                    "the chain of {name} stops at {}: its issuer \"{issuer}\" is neither in the inventory nor trusted",
                    at.label()
                ),
            )
            .ev("missing_issuer", issuer)
            .ev("last_in_chain", last),
        );
    }
    let trust_known =
        !ctx.trusted.is_empty() || !ctx.public.is_empty() || !ctx.inputs.anchor_names.is_empty();
    if trust_known
        && let End::Root(root) = end
        && (!c.is_ca || root == a.id)
    {
        let r = ctx.by_id.get(root).copied().unwrap_or(a);
        hits.push(
            hit(
                RuleId::CertUntrustedRoot,
                if root == a.id {
                    format!("{name} is a self-signed root that is not among the trusted roots")
                } else {
                    format!(
                        "{name} chains to {}, a root that is not among the trusted roots",
                        r.label()
                    )
                },
            )
            .ev("root", root)
            .ev("root_fingerprint", &r.fingerprint),
        );
    }
}

/// Security strength in bits of a classical key (SP 800-57 Part 1 table 2), when known.
pub fn strength(k: &KeyInfo) -> Option<u32> {
    let bits = k.bits?;
    Some(match k.algorithm.as_str() {
        "RSA" | "RSASSA-PSS" | "DSA" | "DH" => match bits {
            0..2048 => 80,
            2048..3072 => 112,
            3072..7680 => 128,
            7680..15360 => 192,
            _ => 256,
        },
        _ => (bits / 2).min(256),
    })
}

fn weak_key(policy: &Policy, k: &KeyInfo) -> Option<(String, u32)> {
    let bits = k.bits?;
    let min = policy.min_key_bits.get(&k.algorithm).or_else(|| {
        (k.algorithm == "RSASSA-PSS")
            .then(|| policy.min_key_bits.get("RSA"))
            .flatten()
    })?;
    (bits < *min).then(|| (format!("{} {} bits", k.algorithm, bits), *min))
}

fn key_label(k: &KeyInfo) -> String {
    match (&k.curve, k.bits) {
        (Some(c), _) => format!("{} {c}", k.algorithm),
        (None, Some(b)) if !k.algorithm.starts_with("Ed") => format!("{} {b}", k.algorithm),
        _ => k.algorithm.clone(),
    }
}

fn key_strength_rules(ctx: &Ctx, what: &str, k: &KeyInfo, hits: &mut Vec<Hit>) {
    if let Some((msg, min)) = weak_key(ctx.policy, k) {
        hits.push(
            hit(
                RuleId::KeyWeak,
                format!("{what} is weak: {msg}, below the policy minimum of {min}"),
            )
            .ev("algorithm", &k.algorithm)
            .ev("bits", k.bits.unwrap_or(0))
            .ev("min_bits", min),
        );
    }
    if quantum_vulnerable(&k.algorithm) {
        let s = strength(k);
        let when = if s.is_some_and(|s| s <= 112) {
            "deprecates it after 2030 and disallows it after 2035"
        } else {
            "disallows it after 2035 (112-bit strength is deprecated after 2030)"
        };
        let mut h = hit(
            RuleId::KeyQuantumVulnerable,
            format!("{what} is quantum-vulnerable: NIST IR 8547 (initial public draft) {when}"),
        )
        .ev("algorithm", &k.algorithm)
        .ev("disallowed_after", 2035);
        if s.is_none_or(|s| s <= 112) {
            h = h.ev("deprecated_after", 2030);
        }
        if let Some(s) = s {
            h = h.ev("security_bits", s);
        }
        hits.push(h);
    }
}

/// SP 800-57 key kind of a private key, from its algorithm and certificates.
fn key_kind(k: &KeyInfo, certs: &[&Asset]) -> &'static str {
    let norm = |s: &str| s.replace(' ', "").to_ascii_lowercase();
    if matches!(k.algorithm.as_str(), "X25519" | "X448" | "DH") || k.algorithm.starts_with("ML-KEM")
    {
        return "key-agreement";
    }
    let infos: Vec<&CertificateInfo> = certs
        .iter()
        .filter_map(|c| c.certificate.as_ref())
        .collect();
    let ku = |c: &CertificateInfo, u: &str| c.key_usage.iter().any(|x| norm(x) == u);
    let eku = |c: &CertificateInfo, u: &str| c.extended_key_usage.iter().any(|x| x == u);
    if infos
        .iter()
        .any(|c| c.is_ca || ku(c, "keycertsign") || eku(c, "codeSigning"))
    {
        return "signature";
    }
    if infos
        .iter()
        .any(|c| eku(c, "serverAuth") || eku(c, "clientAuth"))
    {
        return "authentication";
    }
    if !infos.is_empty()
        && infos.iter().all(|c| {
            !c.key_usage.is_empty() && c.key_usage.iter().all(|x| norm(x) == "keyagreement")
        })
    {
        return "key-agreement";
    }
    if matches!(k.format.as_deref(), Some("openssh" | "putty")) {
        return "authentication";
    }
    "signature"
}

fn rotation(
    ctx: &Ctx,
    a: &Asset,
    kind: &str,
    age_from: Option<(OffsetDateTime, &str)>,
    hits: &mut Vec<Hit>,
) {
    let (Some((since, source)), Some(period)) = (age_from, ctx.policy.rotation_days.get(kind))
    else {
        return;
    };
    let age = (ctx.now - since).whole_days();
    if age > i64::from(*period) {
        hits.push(
            hit(
                RuleId::KeyRotationOverdue,
                format!(
                    "{} {} is {age} days old ({source}); the {kind} cryptoperiod is {period} days",
                    a.kind,
                    a.label()
                ),
            )
            .ev("age_days", age)
            .ev("key_kind", kind)
            .ev("period_days", period)
            .ev("since", crate::rfc3339(since))
            .ev("age_source", source),
        );
    }
}

/// The names a certificate is for, lowercase: its DNS SANs, else its CN.
fn cert_names(c: &CertificateInfo) -> Vec<String> {
    let mut names: Vec<String> = c
        .sans
        .iter()
        .filter_map(|s| s.strip_prefix("DNS:"))
        .map(|s| s.to_ascii_lowercase())
        .collect();
    if names.is_empty() {
        names.extend(c.subject_cn.as_ref().map(|n| n.to_ascii_lowercase()));
    }
    names.sort();
    names.dedup();
    names
}

/// `endpoint-serves-stale-certificate`: the served leaf has a newer certificate for one of
/// its names in the inventory (issued later, valid now), which this endpoint does not serve.
fn stale_certificate(ctx: &Ctx, a: &Asset, place: &str, hits: &mut Vec<Hit>) {
    let served = ctx.serves.get(a.id.as_str()).cloned().unwrap_or_default();
    let Some((leaf, info)) = served
        .first()
        .and_then(|c| c.certificate.as_ref().map(|i| (*c, i)))
    else {
        return;
    };
    let now = ctx.now;
    let mut newest: Option<(&Named, String)> = None;
    for name in cert_names(info) {
        for other in ctx.by_name.get(&name).into_iter().flatten() {
            let o = other.cert;
            if other.id == leaf.id
                || served.iter().any(|s| s.id == other.id)
                || o.not_before.get() <= info.not_before.get()
                || o.not_before.get() > now
                || o.not_after.get() <= now
            {
                continue;
            }
            if newest
                .as_ref()
                .is_none_or(|(n, _)| o.not_before.get() > n.cert.not_before.get())
            {
                newest = Some((other, name.clone()));
            }
        }
    }
    let Some((other, name)) = newest else {
        return;
    };
    let (o, at) = (other.cert, other.place);
    hits.push(
        hit(
            RuleId::EndpointServesStaleCertificate,
            format!(
                "{place} serves a certificate for {name} issued {} (expires {}) while a newer one issued {} (expires {}) is at {at}: renewed, not deployed",
                info.not_before, info.not_after, o.not_before, o.not_after
            ),
        )
        .ev("name", &name)
        .ev("served", &leaf.id)
        .ev("served_not_before", info.not_before)
        .ev("newer", other.id)
        .ev("newer_not_before", o.not_before)
        .ev("newer_at", at),
    );
}

/// Why a cipher suite (IANA name) is weak, and whether only at low severity (CBC with
/// SHA-1); `None` when it is not.
pub fn weak_suite(name: &str) -> Option<(&'static str, bool)> {
    let n = name.to_ascii_uppercase();
    let why = if n.contains("_NULL_") || n.ends_with("_NULL") {
        "NULL"
    } else if n.contains("EXPORT") {
        "EXPORT"
    } else if n.contains("_ANON_") {
        "anonymous"
    } else if n.contains("RC4") {
        "RC4"
    } else if n.contains("3DES") || n.contains("_DES") {
        "DES/3DES"
    } else if n.contains("IDEA") || n.contains("RC2") {
        "64-bit block"
    } else if n.contains("_CBC_") && n.ends_with("_SHA") {
        return Some(("CBC with SHA-1", true));
    } else {
        return None;
    };
    Some((why, false))
}

/// `endpoint-weak-cipher`: the suites the probes found accepted.
fn weak_cipher(e: &crate::EndpointInfo, place: &str, hits: &mut Vec<Hit>) {
    let mut bad = Vec::new();
    let mut low = Vec::new();
    for (version, suites) in &e.accepted_suites {
        for s in suites {
            match weak_suite(s) {
                Some((why, false)) => bad.push(format!("{s} ({why}, {version})")),
                Some((_, true)) => low.push(format!("{s} ({version})")),
                None => {}
            }
        }
    }
    if bad.is_empty() && low.is_empty() {
        return;
    }
    let (severity, message) = if bad.is_empty() {
        (
            Severity::Low,
            format!("{place} accepts CBC suites with SHA-1: {}", low.join(", ")),
        )
    } else {
        (
            Severity::High,
            format!("{place} accepts weak cipher suites: {}", bad.join(", ")),
        )
    };
    hits.push(
        hit(RuleId::EndpointWeakCipher, message)
            .sev(severity)
            .ev("weak", bad.join(","))
            .ev("cbc_sha1", low.join(","))
            .ev("negotiated", &e.cipher_suite),
    );
}

/// `endpoint-hostname-mismatch` and `endpoint-cert-invalid`: the verification the source
/// recorded, and the served leaf's dates judged at `now`.
fn endpoint_rules(ctx: &Ctx, a: &Asset, e: &crate::EndpointInfo, hits: &mut Vec<Hit>) {
    let leaf = ctx
        .serves
        .get(a.id.as_str())
        .and_then(|l| l.first())
        .and_then(|c| c.certificate.as_ref().map(|info| (*c, info)));
    let name = e.sni.clone().unwrap_or_else(|| e.host.clone());
    let place = a.label();
    if !e.legacy_protocols.is_empty() {
        hits.push(
            hit(
                RuleId::EndpointLegacyProtocol,
                format!(
                    "{place} accepts {} (negotiates {} with a current client)",
                    e.legacy_protocols.join(", "),
                    e.protocol
                ),
            )
            .ev("accepted", e.legacy_protocols.join(","))
            .ev("negotiated", &e.protocol),
        );
    }
    weak_cipher(e, &place, hits);
    stale_certificate(ctx, a, &place, hits);
    if e.pq_key_exchange.as_deref() == Some("none") {
        let negotiated = e.key_exchange_group.as_deref().unwrap_or("none");
        let offered = if e.groups_offered.is_empty() {
            "none over TLS 1.3".to_string()
        } else {
            e.groups_offered.join(", ")
        };
        hits.push(
            hit(
                RuleId::EndpointNoPqKeyExchange,
                format!(
                    "{place}: no post-quantum key exchange (groups accepted: {offered}; negotiated {negotiated})"
                ),
            )
            .ev("groups_offered", e.groups_offered.join(","))
            .ev("negotiated", negotiated)
            .ev("pq_key_exchange", "none"),
        );
    }
    let v = &e.verification;
    if !v.hostname_match {
        let (subject, sans) = leaf
            .map(|(_, c)| (c.subject.clone(), c.sans.join(", ")))
            .unwrap_or_default();
        let sans_shown = if sans.is_empty() {
            "none".to_string()
        } else {
            sans.clone()
        };
        hits.push(
            hit(
                RuleId::EndpointHostnameMismatch,
                format!(
                    "{place} serves a certificate not valid for {name} (subject {subject}; SANs: {sans_shown})"
                ),
            )
            .ev("name", &name)
            .ev("subject", subject)
            .ev("sans", sans),
        );
    }
    let mut reasons = Vec::new();
    let mut h = hit(RuleId::EndpointCertInvalid, String::new());
    if let Some((c, info)) = leaf {
        let (nb, na) = (info.not_before.get(), info.not_after.get());
        if na < ctx.now {
            reasons.push(format!(
                "the leaf {} expired {} ago ({})",
                c.label(),
                days((ctx.now - na).whole_days()),
                info.not_after
            ));
            h = h.ev("expired", info.not_after);
        } else if nb > ctx.now {
            reasons.push(format!(
                "the leaf {} is not valid until {}",
                c.label(),
                info.not_before
            ));
            h = h.ev("not_yet_valid", info.not_before);
        }
    }
    if !v.chain_complete {
        let issuer = v.missing_issuer.as_deref().unwrap_or("unknown");
        let served = match e.chain_length {
            1 => "1 certificate served".to_string(),
            n => format!("{n} certificates served"),
        };
        reasons.push(format!(
            "incomplete chain: an intermediate is missing ({served}; nothing served or trusted is its issuer {issuer})"
        ));
        h = h.ev("chain_complete", false).ev("missing_issuer", issuer);
    }
    // "Unknown issuer" says no more than the incomplete chain already did.
    let unknown_issuer = v
        .error
        .as_deref()
        .is_some_and(|e| e.starts_with("unknown issuer"));
    if !v.trusted && (v.chain_complete || !unknown_issuer) {
        let why = v.error.as_deref().unwrap_or("no path to a trust anchor");
        reasons.push(format!("untrusted: {why}"));
        h = h.ev("trusted", false).ev("verification_error", why);
    }
    if !reasons.is_empty() {
        h.message = format!("{place} serves an invalid chain: {}", reasons.join("; "));
        hits.push(h);
    }
}

fn key_rules(ctx: &Ctx, a: &Asset, hits: &mut Vec<Hit>) {
    if let Some(c) = &a.certificate {
        key_strength_rules(
            ctx,
            &format!(
                "the {} public key of {}",
                key_label(&c.public_key),
                a.label()
            ),
            &c.public_key,
            hits,
        );
    }
    match a.kind {
        AssetKind::PublicKey => {
            if let Some(k) = &a.key {
                key_strength_rules(ctx, &format!("{} public key", key_label(k)), k, hits);
            }
        }
        AssetKind::PrivateKey => {
            let certs: &[&Asset] = ctx.key_certs.get(a.id.as_str()).map_or(&[], Vec::as_slice);
            if let Some(k) = &a.key {
                if k.encrypted == Some(false) {
                    hits.push(hit(
                        RuleId::KeyUnprotected,
                        format!("{} private key stored without a passphrase", a.label()),
                    ));
                }
                key_strength_rules(ctx, &format!("{} private key", key_label(k)), k, hits);
                let first_seen = ctx.inputs.first_seen.get(&a.id).map(|t| (*t, "first seen"));
                let not_before = certs
                    .iter()
                    .filter_map(|c| c.certificate.as_ref().map(|c| c.not_before.get()))
                    .min()
                    .map(|t| (t, "notBefore of its certificate"));
                // The oldest evidence of the key: a scan's first sighting is no younger
                // than its certificate, so the age does not restart when first recorded.
                let since = first_seen.into_iter().chain(not_before).min_by_key(|s| s.0);
                rotation(ctx, a, key_kind(k, certs), since, hits);
            }
            if let Some(ca) = certs
                .iter()
                .find(|c| c.certificate.as_ref().is_some_and(|c| c.is_ca))
            {
                hits.push(
                    hit(
                        RuleId::KeyCaExposed,
                        format!(
                            "the private key of CA certificate {} is in the inventory ({})",
                            ca.label(),
                            a.label()
                        ),
                    )
                    .ev("ca_certificate", &ca.id),
                );
            }
            if a.occurrences.len() > 1 {
                let places: Vec<String> = a
                    .occurrences
                    .iter()
                    .map(|o| match o.line {
                        Some(l) => format!("{}:{l}", o.path),
                        None => o.path.clone(),
                    })
                    .collect();
                hits.push(
                    hit(
                        RuleId::KeyDuplicated,
                        format!(
                            "{} private key sits in {} places",
                            a.label(),
                            a.occurrences.len()
                        ),
                    )
                    .ev("places", places.join(", ")),
                );
            }
        }
        AssetKind::Secret => {
            let first_seen = ctx.inputs.first_seen.get(&a.id).map(|t| (*t, "first seen"));
            rotation(ctx, a, "symmetric", first_seen, hits);
        }
        _ => {}
    }
}

// ---------------------------------------------------------------- examples

/// An example's scenario, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub assets: Vec<Asset>,
    pub relations: Vec<Relation>,
    pub policy: Policy,
    pub inputs: Inputs,
    pub now: OffsetDateTime,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    #[serde(default)]
    assets: Vec<serde_json::Value>,
    #[serde(default)]
    relations: Vec<Relation>,
    #[serde(default)]
    first_seen: HashMap<String, String>,
    #[serde(default)]
    trusted_roots: Vec<String>,
    #[serde(default)]
    public_roots: Vec<String>,
    #[serde(default)]
    lint_severities: HashMap<String, Severity>,
    #[serde(default)]
    lint_descriptions: HashMap<String, String>,
    #[serde(default)]
    anchor_names: HashMap<String, bool>,
    #[serde(default)]
    policy: Option<String>,
}

/// A healthy asset of each kind, the base example patches apply to.
fn base(kind: &str) -> serde_json::Value {
    let owners =
        serde_json::json!([{"name": "@org/platform", "role": "owner", "source": "explicit"}]);
    let mut v = serde_json::json!({
        "kind": kind,
        "fingerprint": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        "occurrences": [{"path": "deploy/svc.pem", "line": 1, "container": null}],
        "owners": owners,
    });
    let ec = serde_json::json!({"algorithm": "EC", "bits": 256, "curve": "P-256",
        "format": "pkcs8-encrypted", "encrypted": true,
        "spki_sha256": "abababababababababababababababababababababababababababababababab"});
    let extra = match kind {
        "certificate" => serde_json::json!({"certificate": {
            "subject": "CN=svc.example.com", "issuer": "CN=Example Issuing CA", "serial": "01",
            "not_before": "2026-10-01T00:00:00Z", "not_after": "2027-03-01T00:00:00Z",
            "sans": ["DNS:svc.example.com"], "is_ca": false, "self_signed": false,
            "signature_algorithm": "ecdsa-with-SHA256", "signature_algorithm_oid": "1.2.840.10045.4.3.2",
            "signature_hash": "SHA-256", "public_key": ec, "version": 3, "subject_cn": "svc.example.com"}}),
        "private-key" => serde_json::json!({"key": ec}),
        "public-key" => {
            serde_json::json!({"key": {"algorithm": "Ed25519", "bits": 256, "curve": null,
            "format": "ssh", "encrypted": null, "spki_sha256": null}})
        }
        "keystore" => serde_json::json!({"keystore": {"format": "pkcs12", "opened_with": null,
            "locked": true, "entries": 1}}),
        "secret" => {
            serde_json::json!({"secret": {"rule": "github-pat-classic", "provider": "GitHub",
            "redacted": "ghp_AB…(40 chars)"}})
        }
        "consumer" => serde_json::json!({"consumer": {"software": "nginx",
            "name": "server svc.example.com (listen 443)", "references": [
            {"directive": "ssl_certificate", "value": "/etc/nginx/ssl/svc.crt", "line": 5,
             "resolution": "path", "files": ["etc/nginx/ssl/svc.crt"]}]}}),
        "endpoint" => serde_json::json!({
            "occurrences": [{"path": "svc.example.com:443", "line": null, "container": null}],
            "endpoint": {"host": "svc.example.com", "port": 443, "sni": "svc.example.com",
            "address": "192.0.2.10:443", "protocol": "TLSv1.3",
            "cipher_suite": "TLS13_AES_128_GCM_SHA256", "key_exchange_group": "X25519",
            "alpn": "h2", "ocsp_stapled": false, "chain_length": 2, "legacy_protocols": [],
            "verification": {"trusted": true, "hostname_match": true, "chain_complete": true}}}),
        _ => serde_json::json!({}),
    };
    merge(&mut v, extra);
    v
}

fn merge(into: &mut serde_json::Value, patch: serde_json::Value) {
    match (into, patch) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

impl Scenario {
    /// Builds a scenario from an example's JSON (see [`Example::scenario`]).
    pub fn from_json(json: &str) -> Result<Scenario, String> {
        let raw: RawScenario = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let mut assets = Vec::new();
        for (i, patch) in raw.assets.into_iter().enumerate() {
            let kind_name = patch
                .get("kind")
                .and_then(|k| k.as_str())
                .ok_or("an example asset needs a kind")?
                .to_string();
            let kind = AssetKind::parse(&kind_name).ok_or("unknown kind")?;
            let mut v = base(&kind_name);
            v["id"] = serde_json::Value::String(format!("{}_{i}", kind.id_prefix()));
            merge(&mut v, patch);
            assets.push(serde_json::from_value::<Asset>(v).map_err(|e| e.to_string())?);
        }
        let policy = match raw.policy {
            Some(t) => Policy::from_toml(&t, "example.toml").map_err(|e| e.to_string())?,
            None => Policy::default(),
        };
        let mut first_seen = HashMap::new();
        for (id, t) in raw.first_seen {
            first_seen.insert(id, parse_time(&t).ok_or("bad first_seen time")?);
        }
        Ok(Scenario {
            assets,
            relations: raw.relations,
            policy,
            inputs: Inputs {
                first_seen,
                trusted_roots: raw.trusted_roots.into_iter().collect(),
                public_roots: raw.public_roots.into_iter().collect(),
                lint_severities: raw.lint_severities,
                lint_descriptions: raw.lint_descriptions,
                anchor_names: raw.anchor_names,
                reach: None,
                known_certificates: Vec::new(),
            },
            now: parse_time(EXAMPLE_NOW).ok_or("bad EXAMPLE_NOW")?,
        })
    }

    pub fn evaluate(&self) -> Vec<Finding> {
        evaluate_with(
            &self.assets,
            &self.relations,
            &self.policy,
            self.now,
            &self.inputs,
        )
    }
}

impl Example {
    /// Evaluates the example's scenario.
    pub fn evaluate(&self) -> Result<Vec<Finding>, String> {
        Ok(Scenario::from_json(self.scenario)?.evaluate())
    }
}
