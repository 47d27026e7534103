//! The scan pipeline: sources -> detection -> inventory (dedup, relations, owners) -> policy
//! (built-in rules and X.509 lints, Rego custom rules, baseline, waivers) -> record.
//!
//! [`Scan::prepare`] reads and validates every input a request names (roots, secret rules,
//! policy and trust bundles, Rego files, baseline) so a bad one fails before any walk;
//! [`Scan::run`] walks the sources and judges what they yield, reading history (key age) and
//! waivers from the store handle it is lent; [`ScanOutcome::record`] records the scan in the
//! same store. [`scan`] does all three. Nothing here prints.

use crate::baseline::Baseline;
use crate::clock::Clock;
use crate::own::OwnFiles;
use crate::record::{self, StoreHandle};
use crate::rego::{self, CustomRules};
use crate::waivers::{self, Applied};
use crate::{Error, policy};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;
use time::OffsetDateTime;
use trustmap_core::policy::{Inputs, Policy};
use trustmap_core::{Asset, Owner, Report, ScanError, ScanInfo, ToolInfo, rfc3339, sha256_hex};
use trustmap_discover::Found;
use trustmap_discover::inventory::Inventory;
use trustmap_discover::scan::Scanner;
use trustmap_discover::secrets::RuleSet;
use trustmap_discover::source::{self, OwnerHints, Progress, Sink, Source};
use trustmap_discover::timing::{Phase, time as timed};
use trustmap_discover::unlock::Retry;
use trustmap_discover::walk::WalkOptions;

/// How to scan; everything but the roots.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Skip files excluded by .gitignore/.ignore.
    pub respect_gitignore: bool,
    /// Follow symbolic links.
    pub follow_symlinks: bool,
    /// Worker threads; 0 = one per core.
    pub threads: usize,
    /// Extra secret rules: gitleaks-format TOML files.
    pub secret_rules: Vec<PathBuf>,
    /// Policy file; `None`: the `trustmap.toml` discovered for the roots, if any
    /// ([`policy::discover`]).
    pub policy: Option<PathBuf>,
    /// Custom Rego rules: `.rego` files or directories searched for them.
    pub rego: Vec<PathBuf>,
    /// What each Rego file may spend (time, memory, findings).
    pub rego_limits: crate::rego::Limits,
    /// Baseline file: findings in it are marked baselined.
    pub baseline: Option<PathBuf>,
    /// The scanning host's name as recorded; `None`: this machine's ([`local_host_name`]).
    pub host: Option<String>,
    /// Judge as if it were this instant; `None`: when the scan starts.
    pub now: Option<OffsetDateTime>,
    /// Files the caller writes from this scan (`--output`, the baseline being written):
    /// trustmap's own, like the policy, baseline, Rego and rules files the request names
    /// (see [`crate::own`]).
    pub writes: Vec<PathBuf>,
    /// Gitignore-style globs of paths not to walk, relative to each root; the policy's
    /// `exclude` list is added to them.
    pub exclude: Vec<String>,
    /// Keystore passwords to try after the defaults (`--keystore-password`).
    pub keystore_passwords: KeystorePasswords,
    /// Files of keystore passwords, one a line (`--keystore-password-file`).
    pub keystore_password_files: Vec<PathBuf>,
}

/// Passwords the user gave for their keystores: tried after the defaults, never shown
/// (`Debug` prints how many), never stored.
#[derive(Clone, Default)]
pub struct KeystorePasswords(pub Vec<String>);

impl std::fmt::Debug for KeystorePasswords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeystorePasswords(<{} given>)", self.0.len())
    }
}

/// What to scan.
#[derive(Default)]
pub struct ScanRequest {
    /// Files and directories: one file-tree source each (paths prefixed by their root when
    /// there are several).
    pub paths: Vec<PathBuf>,
    /// Further sources, scanned after the paths (archives in memory, endpoints...).
    pub sources: Vec<Box<dyn Source>>,
    pub options: ScanOptions,
}

impl ScanRequest {
    /// A request for these files and directories with default options.
    pub fn new(paths: Vec<PathBuf>) -> Self {
        ScanRequest {
            paths,
            ..Default::default()
        }
    }

    /// Adds a source.
    pub fn source(mut self, s: impl Source + 'static) -> Self {
        self.sources.push(Box::new(s));
        self
    }
}

/// One scanned root: as given (the report's `scan.roots`) and canonical (absolute path, or
/// the source's stable name): "the same roots" across scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRoot {
    pub given: String,
    pub canonical: String,
}

/// What a scan produced.
#[derive(Debug)]
pub struct ScanOutcome {
    /// The JSON contract: assets, relations, findings (baselined and waived marked), errors.
    pub report: Report,
    /// The request's clock: `now` judged the findings and waivers.
    pub clock: Clock,
    /// The roots, as given and canonical.
    pub roots: Vec<ScanRoot>,
    /// Whether a baseline was applied.
    pub baselined: bool,
    /// What the store's waivers did (zero without a store).
    pub waivers: Applied,
    /// When each asset was first seen by the inventory (RFC 3339): its history before this
    /// scan, and once recorded, this scan for the assets it saw first. Empty without a store.
    pub first_seen: BTreeMap<String, String>,
    /// The store's account of recording this scan, once recorded.
    pub record: Option<trustmap_store::ScanRecord>,
    /// Monotonic start, for `finished_at` (the wall clock is read once, in `clock`).
    timer: Instant,
    /// The owners the scan inferred for the assets whose report shows the store's explicit
    /// owners instead: what the store records as inferred.
    inferred: HashMap<String, Vec<Owner>>,
}

/// A scan whose inputs are loaded and valid, ready to run.
pub struct Scan {
    paths: Vec<PathBuf>,
    sources: Vec<Box<dyn Source>>,
    scanner: Scanner,
    policy: Policy,
    inputs: Inputs,
    custom: Option<CustomRules>,
    baseline: Option<Baseline>,
    host: String,
    now: Option<OffsetDateTime>,
    /// The policy file as shown in `scan.policy`; `None`: the built-in policy.
    policy_shown: Option<String>,
    /// Settings of a discovered policy file ignored because they loosen the built-in one.
    policy_ignored: Vec<String>,
    own: OwnFiles,
}

impl Scan {
    /// Reads and validates what the request names, before any walk: baseline, roots, secret
    /// rules, policy and trust bundles, Rego files.
    pub fn prepare(req: ScanRequest) -> Result<Scan, Error> {
        let ScanRequest {
            paths,
            sources,
            options: o,
        } = req;
        let baseline = o.baseline.as_deref().map(Baseline::load).transpose()?;
        for p in &paths {
            if !p.exists() {
                return Err(Error::NoSuchPath(p.clone()));
            }
        }
        let mut rules = RuleSet::builtin();
        for file in &o.secret_rules {
            let text =
                std::fs::read_to_string(file).map_err(|e| Error::read("rules file", file, e))?;
            rules.extend(RuleSet::from_gitleaks_toml(
                &text,
                &file.display().to_string(),
            )?);
        }
        let passwords = keystore_passwords(o.keystore_passwords.0, &o.keystore_password_files)?;
        let policy::Loaded {
            policy,
            file: policy_file,
            explicit,
            ignored: policy_ignored,
        } = policy::load(o.policy.as_deref(), &paths)?;
        let (inputs, anchors) =
            policy::inputs_and_anchors(&policy, policy_file.as_deref(), &paths)?;
        let custom = CustomRules::load_with(&o.rego, o.rego_limits.clone())?;
        let policy_shown = policy_file.as_deref().map(|f| policy::shown(f, explicit));
        let mut own_files: Vec<PathBuf> = policy_file.into_iter().collect();
        own_files.extend(o.baseline.iter().cloned());
        own_files.extend(rego::files(&o.rego)?);
        own_files.extend(o.secret_rules.iter().cloned());
        own_files.extend(o.writes.iter().cloned());
        let own = OwnFiles::new(&own_files, &paths, &rules);
        let mut walk = WalkOptions::new(paths.clone());
        walk.respect_gitignore = o.respect_gitignore;
        walk.follow_symlinks = o.follow_symlinks;
        walk.threads = o.threads;
        for pattern in &o.exclude {
            trustmap_discover::walk::check_exclude(pattern).map_err(Error::Exclude)?;
        }
        walk.exclude = o.exclude.iter().chain(&policy.exclude).cloned().collect();
        let mut all: Vec<Box<dyn Source>> = walk
            .sources()
            .into_iter()
            .map(|t| Box::new(t) as Box<dyn Source>)
            .collect();
        all.extend(sources);
        Ok(Scan {
            paths,
            sources: all,
            scanner: Scanner::new(rules)
                .with_keystore_passwords(passwords)
                .with_trust_anchors(anchors),
            policy,
            inputs,
            custom,
            baseline,
            host: o.host.unwrap_or_else(local_host_name),
            now: o.now,
            policy_shown,
            policy_ignored,
            own,
        })
    }

    /// The files and directories of the request.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Runs the sources and judges the inventory, with the clock read now (or the
    /// request's `now`). With a store: key age from its history, and its waivers applied.
    /// For a scan pushed to a server (`scan --push`): secrets are fingerprinted by their
    /// value's SHA-256 alone, which the server keys with its inventory's key on receipt
    /// (see `trustmap_discover::scan::SecretKey::digest_only`). Run without a store.
    pub fn with_secret_digests(mut self) -> Self {
        self.scanner
            .set_secret_key(trustmap_discover::scan::SecretKey::digest_only());
        self
    }

    pub fn run(
        self,
        store: Option<StoreHandle<'_>>,
        progress: &Progress,
    ) -> Result<ScanOutcome, Error> {
        let clock = Clock::start(self.now);
        self.run_at(clock, store, progress)
    }

    /// [`Scan::run`] with the caller's clock.
    pub fn run_at(
        mut self,
        clock: Clock,
        store: Option<StoreHandle<'_>>,
        progress: &Progress,
    ) -> Result<ScanOutcome, Error> {
        let timer = Instant::now();
        // Secrets are fingerprinted with the inventory's key (the same secret keeps its
        // identity across scans); without a store, with the scanner's own random key.
        if let Some(s) = store {
            let key = record::secret_fingerprint_key(s)?;
            self.scanner
                .set_secret_key(trustmap_discover::scan::SecretKey::new(&key));
        }
        let mut sink = Collect {
            inventory: Inventory::new(),
            errors: Vec::new(),
            hints: Vec::new(),
            retry: Retry::default(),
            progress,
            own: &mut self.own,
        };
        source::run_all(&self.sources, &self.scanner, progress, &mut sink);
        let Collect {
            mut inventory,
            mut errors,
            hints,
            retry,
            ..
        } = sink;
        // The second chance: locked keystores and encrypted keys tried with the passwords
        // the walk found in configurations next to them (bounded; see trustmap_discover::unlock).
        for r in retry.run() {
            if let Some(w) = &r.withdrawn {
                errors.retain(|e| e != w);
            }
            errors.extend(r.errors);
            inventory.add(r.found);
        }
        // What the inventory's bounds cut short (issuer candidates, relations) is an error too.
        let (mut assets, mut relations, cut_short) =
            timed(Phase::Link, || inventory.finish_all(&hints));
        errors.extend(cut_short);
        let roots: Vec<ScanRoot> = self
            .sources
            .iter()
            .map(|s| ScanRoot {
                given: s.given(),
                canonical: s.canonical(),
            })
            .collect();
        // Consumers' references to the files they load: `uses` relations (resolved here,
        // once every asset is known).
        let uses = timed(Phase::Consumers, || {
            crate::consumers::resolve(&mut assets, &roots, &mut errors)
        });
        if !uses.is_empty() {
            relations.extend(uses);
            relations.sort();
        }
        // Who depends on what (consumers, endpoints), once every relation is known: findings
        // carry it and the policy's [impact] thresholds raise them with it.
        let reach = trustmap_core::policy::Reach::compute(&assets, &relations);
        if let Some(why) = &reach.cut_short {
            errors.push(ScanError {
                path: String::new(),
                error: why.clone(),
            });
        }
        errors.sort();
        let duration_ms = timer.elapsed().as_millis() as u64;

        let (first_seen, inferred) = match store {
            Some(s) => {
                let ids: Vec<String> = assets.iter().map(|a| a.id.clone()).collect();
                let explicit = record::explicit_owners(s, &assets, &self.host)?;
                let inferred = apply_explicit_owners(&mut assets, explicit);
                (record::first_seen(s, &ids)?, inferred)
            }
            None => (BTreeMap::new(), HashMap::new()),
        };
        self.inputs.first_seen = key_age(&first_seen);
        // The inventory's certificates for the names endpoints serve: a renewal on disk
        // seen by an earlier scan makes a served leaf stale as one in this scan does.
        if let Some(s) = store {
            let names = served_names(&assets, &relations);
            if !names.is_empty() {
                self.inputs.known_certificates = record::known_certificates(s, &names, clock.now)?;
            }
        }
        self.inputs.reach = Some(reach);
        let mut findings = timed(Phase::Policy, || {
            trustmap_core::policy::evaluate_with(
                &assets,
                &relations,
                &self.policy,
                clock.now,
                &self.inputs,
            )
        });
        let reach = self.inputs.reach.take().unwrap_or_default();
        if let Some(custom) = &mut self.custom {
            let mut extra = timed(Phase::Rego, || custom.evaluate(&assets, &relations))?;
            reach.annotate(&mut extra, &self.policy);
            findings.extend(extra);
            rego::sort(&mut findings);
        }
        if let Some(b) = &self.baseline {
            b.mark(&mut findings);
        }
        let applied = match store {
            Some(s) => waivers::apply(&mut findings, &record::waivers(s)?, clock.now),
            None => Applied::default(),
        };

        let given: Vec<String> = roots.iter().map(|r| r.given.clone()).collect();
        let id = format!(
            "scan_{}",
            &sha256_hex(
                format!(
                    "{}{:?}{}",
                    clock.started.unix_timestamp_nanos(),
                    given,
                    std::process::id()
                )
                .as_bytes()
            )[..16]
        );
        let report = Report {
            tool: ToolInfo {
                name: "trustmap".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            scan: ScanInfo {
                id,
                started_at: clock.started.into(),
                roots: given,
                host: self.host,
                files_scanned: progress.files.load(Ordering::Relaxed),
                bytes_scanned: progress.bytes.load(Ordering::Relaxed),
                duration_ms,
                policy: self.policy_shown,
                policy_ignored: self.policy_ignored,
                excluded: progress.excluded.load(Ordering::Relaxed),
            },
            assets,
            relations,
            findings,
            errors,
        };
        Ok(ScanOutcome {
            report,
            clock,
            roots,
            baselined: self.baseline.is_some(),
            waivers: applied,
            first_seen,
            record: None,
            timer,
            inferred,
        })
    }
}

impl ScanOutcome {
    /// Records the scan in the store (one transaction); the assets it saw first are then
    /// first seen at its end.
    pub fn record(&mut self, store: StoreHandle<'_>) -> Result<&trustmap_store::ScanRecord, Error> {
        let finished_at = rfc3339(self.clock.started + self.timer.elapsed());
        // The store records what the scan inferred; its explicit owners stay as they are.
        self.swap_inferred_owners();
        let rec = timed(Phase::Record, || {
            record::record(store, &self.report, &self.roots, &finished_at)
        });
        self.swap_inferred_owners();
        let rec = rec?;
        for id in &rec.first_seen {
            self.first_seen
                .entry(id.clone())
                .or_insert_with(|| finished_at.clone());
        }
        Ok(self.record.insert(rec))
    }
}

impl ScanOutcome {
    /// Swaps the report's owners of the assets with explicit owners and the inferred ones.
    fn swap_inferred_owners(&mut self) {
        if self.inferred.is_empty() {
            return;
        }
        for a in &mut self.report.assets {
            if let Some(owners) = self.inferred.get_mut(&a.id) {
                std::mem::swap(&mut a.owners, owners);
            }
        }
    }
}

/// Prepares, runs and (with a store) records a scan: the whole pipeline in one call.
pub fn scan(
    req: ScanRequest,
    store: Option<StoreHandle<'_>>,
    progress: &Progress,
) -> Result<ScanOutcome, Error> {
    let mut out = Scan::prepare(req)?.run(store, progress)?;
    if let Some(s) = store {
        out.record(s)?;
    }
    Ok(out)
}

/// The store's explicit owners over what the scan inferred: per role, explicit owners
/// replace the inferred ones (as the store's listings count them), before the policy judges
/// (`asset-unowned`) and in the report. Returns the owners the scan inferred for the assets
/// it changed.
fn apply_explicit_owners(
    assets: &mut [Asset],
    mut explicit: HashMap<String, Vec<Owner>>,
) -> HashMap<String, Vec<Owner>> {
    let mut inferred = HashMap::new();
    if explicit.is_empty() {
        return inferred;
    }
    for a in assets.iter_mut() {
        let Some(mut owners) = explicit.remove(&a.id) else {
            continue;
        };
        owners.extend(
            a.owners
                .iter()
                .filter(|o| !owners.iter().any(|e| e.role == o.role))
                .cloned()
                .collect::<Vec<_>>(),
        );
        inferred.insert(a.id.clone(), std::mem::replace(&mut a.owners, owners));
    }
    inferred
}

/// The given keystore passwords and those of the files (one a line, line ends removed,
/// empty lines skipped), at most [`trustmap_discover::keystore::MAX_EXTRA`].
fn keystore_passwords(mut given: Vec<String>, files: &[PathBuf]) -> Result<Vec<String>, Error> {
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Error::read("keystore password file", file, e))?;
        given.extend(
            text.lines()
                .map(|l| l.strip_suffix('\r').unwrap_or(l))
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        );
    }
    let max = trustmap_discover::keystore::MAX_EXTRA;
    if given.len() > max {
        return Err(Error::KeystorePasswords(format!(
            "{} keystore passwords given; at most {max} are tried",
            given.len()
        )));
    }
    Ok(given)
}

/// Key age for `key-rotation-overdue`: the history's first-seen instants, parsed.
/// The names (DNS SANs, else the CN; lowercase) of the leaves endpoints serve.
fn served_names(
    assets: &[trustmap_core::Asset],
    relations: &[trustmap_core::Relation],
) -> Vec<String> {
    let served: std::collections::HashSet<&str> = relations
        .iter()
        .filter(|r| r.kind == trustmap_core::RelationType::Serves)
        .map(|r| r.to.as_str())
        .collect();
    let mut names: Vec<String> = Vec::new();
    for a in assets.iter().filter(|a| served.contains(a.id.as_str())) {
        let Some(c) = &a.certificate else { continue };
        let dns: Vec<String> = c
            .sans
            .iter()
            .filter_map(|s| s.strip_prefix("DNS:"))
            .map(|s| s.to_ascii_lowercase())
            .collect();
        if dns.is_empty() {
            names.extend(c.subject_cn.as_ref().map(|n| n.to_ascii_lowercase()));
        } else {
            names.extend(dns);
        }
    }
    names.sort();
    names.dedup();
    names
}

fn key_age(first_seen: &BTreeMap<String, String>) -> HashMap<String, OffsetDateTime> {
    let rfc = time::format_description::well_known::Rfc3339;
    first_seen
        .iter()
        .filter_map(|(id, at)| Some((id.clone(), OffsetDateTime::parse(at, &rfc).ok()?)))
        .collect()
}

/// The sink every source of a scan feeds: one inventory, its errors, its owner hints.
struct Collect<'a> {
    inventory: Inventory,
    errors: Vec<ScanError>,
    hints: Vec<OwnerHints>,
    /// Locked keystores and candidate passwords, for the second chance after the walk.
    retry: Retry,
    progress: &'a Progress,
    /// trustmap's own files: the generic secret rules do not apply to them.
    own: &'a mut OwnFiles,
}

impl Sink for Collect<'_> {
    fn found(&mut self, mut found: Found) {
        if !self.own.keep(&found) {
            return;
        }
        self.retry.take(&mut found);
        let inventory = &mut self.inventory;
        timed(Phase::Collect, || inventory.add(found));
        self.progress
            .found
            .store(self.inventory.len() as u64, Ordering::Relaxed);
    }

    fn error(&mut self, error: ScanError) {
        self.errors.push(error);
    }

    fn owners(&mut self, hints: OwnerHints) {
        self.hints.push(hints);
    }
}

/// This machine's host name: the scan's default `host`.
pub fn local_host_name() -> String {
    for f in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(s) = std::fs::read_to_string(f) {
            let s = s.trim();
            if !s.is_empty() {
                return s.to_string();
            }
        }
    }
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .unwrap_or_else(|_| "unknown".into())
}
