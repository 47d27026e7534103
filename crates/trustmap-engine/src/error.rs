//! The engine's errors. Findings are values, not errors: an error here means the request
//! cannot be carried out (a missing root, a bad policy or rule file, a store that fails).

use std::path::PathBuf;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A root, or a Rego path, that does not exist.
    #[error("{}: no such file or directory", .0.display())]
    NoSuchPath(PathBuf),
    /// A file the request names cannot be read.
    #[error("reading {what} {}", path.display())]
    Read {
        /// What the file is: "policy file", "rules file", "baseline"...
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A gitleaks-format secret rules file that cannot be used (names file and line).
    #[error(transparent)]
    SecretRules(#[from] trustmap_discover::secrets::RuleError),
    /// A policy file that cannot be used (names file, line and field).
    #[error(transparent)]
    Policy(#[from] trustmap_core::policy::PolicyError),
    /// Scanned roots governed by different discovered policy files.
    #[error("{0}")]
    PolicyConflict(String),
    /// A trusted bundle named by the policy that cannot be read.
    #[error("reading trusted bundle {} named by the policy", path.display())]
    Bundle {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A trusted bundle named by the policy with no certificate in it.
    #[error("trusted bundle {} holds no certificate", .0.display())]
    EmptyBundle(PathBuf),
    /// An `--exclude` pattern that is not a valid gitignore-style glob.
    #[error("{0}")]
    Exclude(String),
    /// A Rego file that does not parse or evaluate, or a finding it returns that is invalid.
    #[error("{0}")]
    Rego(String),
    /// A baseline file that is not one.
    #[error(
        "baseline {}: not a trustmap baseline (write one with `trustmap baseline`)",
        path.display()
    )]
    Baseline {
        path: PathBuf,
        #[source]
        reason: Invalid,
    },
    /// A rule id that no rule has (waivers); the message suggests the nearest ids.
    #[error("{0}")]
    UnknownRule(String),
    /// A waiver of a rule that can never raise a finding on the asset's kind.
    #[error("{0}")]
    NotApplicable(String),
    /// Keystore passwords that cannot be used (too many); never names a password.
    #[error("{0}")]
    KeystorePasswords(String),
    /// A request that makes no sense: a bad `as of`, a bad path glob.
    #[error("{0}")]
    Request(String),
    /// A date or instant that does not parse.
    #[error("bad date {0:?}: use 2026-12-31 or 2026-12-31T12:00:00Z")]
    BadDate(String),
    /// The inventory store failed; `context` says at which step.
    #[error("{context}")]
    Store {
        context: &'static str,
        #[source]
        source: trustmap_store::Error,
    },
}

/// A reason a file's content is invalid.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Error {
    pub(crate) fn read(
        what: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Read {
            what,
            path: path.into(),
            source,
        }
    }
}
