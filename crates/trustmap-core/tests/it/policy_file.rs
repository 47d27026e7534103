//! The policy file: the commented default is the built-in policy, settings take effect,
//! and every bad file fails with an error naming the file, line and field.

use trustmap_core::Severity;
use trustmap_core::policy::{Policy, PolicyError, RuleSetting, default_policy_toml};

#[test]
fn the_commented_default_parses_to_the_builtin_policy() {
    let p = Policy::from_toml(default_policy_toml(), "trustmap.toml").unwrap();
    assert_eq!(p, Policy::default());
    // It documents every section and is mostly comments.
    for section in [
        "[expiry]",
        "[validity]",
        "[keys.min_bits]",
        "[signatures]",
        "[rotation]",
        "[trust]",
        "[rules]",
        "[[scope]]",
    ] {
        assert!(default_policy_toml().contains(section), "{section}");
    }
}

#[test]
fn windows_not_named_keep_their_defaults() {
    let p = Policy::from_toml("[expiry]\nmedium = 45\nlow = 90\n", "trustmap.toml").unwrap();
    assert_eq!(
        p.expiry_windows,
        [
            (Severity::Critical, 7),
            (Severity::High, 14),
            (Severity::Medium, 45),
            (Severity::Low, 90)
        ]
    );
}

#[test]
fn lifetime_fractions_are_read_and_default_per_window() {
    // The built-in windows: 30/14/7 days or a fifth/tenth/twentieth of the lifetime.
    assert_eq!(
        Policy::default().expiry_fractions,
        [
            (Severity::Critical, 0.05),
            (Severity::High, 0.1),
            (Severity::Medium, 0.2)
        ]
    );
    // An integer is a fraction too; `low` got a day window, so it gets a fraction: its
    // default 0.3, raised to medium's so that the windows stay in order.
    let p = Policy::from_toml(
        "[expiry]\nlow = 60\n\n[expiry.lifetime_fraction]\nmedium = 1\nhigh = 0.25\ncritical = 0.1\n",
        "trustmap.toml",
    )
    .unwrap();
    assert_eq!(
        p.expiry_fractions,
        [
            (Severity::Critical, 0.1),
            (Severity::High, 0.25),
            (Severity::Medium, 1.0),
            (Severity::Low, 1.0)
        ]
    );
    // Windows: the shorter of the days and the fraction of the lifetime.
    let day = 86_400;
    assert_eq!(
        p.expiry_window_secs(Severity::Medium, 90 * day),
        Some(30 * day)
    );
    assert_eq!(
        p.expiry_window_secs(Severity::High, 40 * day),
        Some(10 * day)
    );
    assert_eq!(p.expiry_window_secs(Severity::Info, 40 * day), None);
}

#[test]
fn an_empty_file_is_the_builtin_policy() {
    assert_eq!(
        Policy::from_toml("", "trustmap.toml").unwrap(),
        Policy::default()
    );
}

#[test]
fn settings_take_effect() {
    let text = r#"
[expiry]
low = 60
medium = 30
high = 10
critical = 3

[validity]
private_max_days = 90

[[validity.override]]
issuer = "*Corp Root*"
max_days = 825

[[validity.override]]
path = "edge/**"
public = true

[keys.min_bits]
RSA = 3072
EC = 256

[signatures]
allowed_hashes = ["SHA-384", "SHA-512"]

[rotation]
authentication = 365

[trust]
roots = ["SHA256:AB:CD:abababababababababababababababababababababababababababababab"]
bundles = ["certs/corp.pem"]

[rules]
cert-wildcard = "off"
asset-unowned = "info"
key-weak = "on"

[[scope]]
path = "tests/**"
severity = "info"
rules = ["secret-plaintext", "key-unprotected"]
"#;
    let p = Policy::from_toml(text, "trustmap.toml").unwrap();
    assert_eq!(
        p.expiry_windows,
        [
            (Severity::Critical, 3),
            (Severity::High, 10),
            (Severity::Medium, 30),
            (Severity::Low, 60)
        ]
    );
    assert_eq!(p.private_max_days, 90);
    assert_eq!(p.validity_overrides.len(), 2);
    assert_eq!(p.validity_overrides[0].max_days, Some(825));
    assert_eq!(p.validity_overrides[1].max_days, None);
    assert_eq!(p.min_key_bits["RSA"], 3072);
    assert_eq!(
        p.min_key_bits["DSA"], 2048,
        "defaults stay for algorithms not named"
    );
    assert_eq!(p.allowed_hashes, ["SHA-384", "SHA-512"]);
    assert_eq!(p.rotation_days["authentication"], 365);
    assert_eq!(p.rotation_days["signature"], 1095);
    assert!(
        p.trusted_roots
            .contains("abcdabababababababababababababababababababababababababababababab")
    );
    assert_eq!(p.trusted_bundles, ["certs/corp.pem"]);
    assert_eq!(p.rule_setting("cert-wildcard"), RuleSetting::Off);
    assert!(!p.enabled("cert-wildcard"));
    assert_eq!(
        p.rule_setting("asset-unowned"),
        RuleSetting::Severity(Severity::Info)
    );
    assert_eq!(p.rule_setting("key-weak"), RuleSetting::On);
    assert_eq!(p.scopes[0].rules, ["secret-plaintext", "key-unprotected"]);
}

fn err(text: &str) -> PolicyError {
    Policy::from_toml(text, "conf/trustmap.toml").expect_err("should be rejected")
}

/// Each bad file: (text, line, field, words the message must contain).
#[test]
fn bad_files_name_file_line_and_field() {
    let cases: &[(&str, usize, &str, &str)] = &[
        // syntax
        ("[expiry]\nmedium = 30\nhigh = \n", 3, "expiry.high", ""),
        // unknown section / key
        (
            "[expiry]\nmedium = 30\n\n[expirey]\nhigh = 3\n",
            4,
            "expirey",
            "unknown field",
        ),
        (
            "[expiry]\nmedium = 30\nhihg = 14\n",
            3,
            "expiry.hihg",
            "unknown field",
        ),
        // wrong type
        (
            "[expiry]\nmedium = \"thirty\"\n",
            2,
            "expiry.medium",
            "invalid type",
        ),
        // semantic: negative and zero numbers
        ("[expiry]\nhigh = -14\n", 2, "expiry.high", "positive"),
        (
            "\n[validity]\nprivate_max_days = 0\n",
            3,
            "validity.private_max_days",
            "positive",
        ),
        (
            "[keys.min_bits]\nRSA = 2048\nEC = -1\n",
            3,
            "keys.min_bits.EC",
            "positive",
        ),
        // windows out of order
        (
            "[expiry]\ncritical = 20\nhigh = 14\n",
            3,
            "expiry.high",
            "at least",
        ),
        ("[expiry]\nhigh = 40\n", 2, "expiry.high", "at least"),
        // inline tables and dotted keys are located too
        (
            "keys = { min_bits = { RSA = 2048, EC = -5 } }\n",
            1,
            "keys.min_bits.EC",
            "positive",
        ),
        (
            "\nrotation.signing = 365\n",
            2,
            "rotation.signing",
            "unknown key kind",
        ),
        // a duplicate key is a syntax error, still named
        (
            "[expiry]\nhigh = 14\nhigh = 15\n",
            3,
            "expiry.high",
            "duplicate",
        ),
        // lifetime fractions: range, type, a window to shorten, order, unknown severity
        (
            "[expiry]\nmedium = 30\n\n[expiry.lifetime_fraction]\nhigh = 0.1\nmedium = 20\n",
            6,
            "expiry.lifetime_fraction.medium",
            "above 0 and at most 1",
        ),
        (
            "[expiry.lifetime_fraction]\ncritical = 0\n",
            2,
            "expiry.lifetime_fraction.critical",
            "above 0 and at most 1",
        ),
        (
            "[expiry.lifetime_fraction]\nhigh = nan\n",
            2,
            "expiry.lifetime_fraction.high",
            "above 0 and at most 1",
        ),
        (
            "[expiry.lifetime_fraction]\nmedium = \"20%\"\n",
            2,
            "expiry.lifetime_fraction.medium",
            "invalid type",
        ),
        (
            "[expiry.lifetime_fraction]\nlow = 0.3\n",
            2,
            "expiry.lifetime_fraction.low",
            "no low window",
        ),
        (
            "[expiry.lifetime_fraction]\nmedium = 0.2\nhigh = 0.5\n",
            2,
            "expiry.lifetime_fraction.medium",
            "at least",
        ),
        (
            "[expiry]\nhigh = 14\nlifetime_fraction = { urgent = 0.1 }\n",
            3,
            "expiry.lifetime_fraction.urgent",
            "unknown field",
        ),
        // unknown rule id, bad setting
        (
            "[rules]\ncert-wildcard = \"off\"\ncert-expird = \"low\"\n",
            3,
            "rules.cert-expird",
            "unknown rule id",
        ),
        (
            "[rules]\ncert-wildcard = \"sometimes\"\n",
            2,
            "rules.cert-wildcard",
            "not one of",
        ),
        // hashes, kinds, fingerprints
        (
            "[signatures]\nallowed_hashes = [\"SHA-256\",\n  \"SHA-257\"]\n",
            3,
            "signatures.allowed_hashes[1]",
            "unknown hash",
        ),
        (
            "[rotation]\nsigning = 365\n",
            2,
            "rotation.signing",
            "unknown key kind",
        ),
        (
            "[trust]\nroots = [\"abc\"]\n",
            2,
            "trust.roots[0]",
            "fingerprint",
        ),
        // overrides and scopes
        (
            "[[validity.override]]\nissuer = \"x\"\npath = \"y\"\nmax_days = 3\n",
            1,
            "validity.override[0]",
            "exactly one of `issuer`",
        ),
        (
            "[[validity.override]]\nissuer = \"x\"\nmax_days = 3\npublic = true\n",
            1,
            "validity.override[0]",
            "exactly one of `max_days",
        ),
        (
            "[[validity.override]]\npath = \"a/[\"\nmax_days = 3\n",
            2,
            "validity.override[0].path",
            "bad glob",
        ),
        (
            "[[scope]]\npath = \"tests/**\"\nseverity = \"info\"\n\n[[scope]]\npath = \"x/**\"\nseverity = \"urgent\"\n",
            7,
            "scope[1].severity",
            "not one of",
        ),
        (
            "[[scope]]\npath = \"tests/**\"\nseverity = \"info\"\nrules = [\"nope\"]\n",
            4,
            "scope[0].rules[0]",
            "unknown rule id",
        ),
        (
            "[[scope]]\nseverity = \"info\"\n",
            1,
            "scope[0]",
            "missing `path`",
        ),
    ];
    for (text, line, field, words) in cases {
        let e = err(text);
        assert_eq!(e.file, "conf/trustmap.toml", "{text}");
        assert_eq!(
            (e.line, e.field.as_str()),
            (*line, *field),
            "{text}\n=> {e}"
        );
        assert!(e.message.contains(words), "{text}\n=> {e}");
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!("conf/trustmap.toml:{line}:")) && shown.contains(field),
            "{shown}"
        );
    }
}

#[test]
fn lint_ids_are_accepted_when_the_caller_names_them() {
    let text = "[rules]\nx509-serial-zero = \"high\"\n";
    assert_eq!(err(text).field, "rules.x509-serial-zero");
    let p = Policy::from_toml_with(text, "trustmap.toml", &["x509-serial-zero"]).unwrap();
    // Endpoint rule ids are rule ids like the rest.
    Policy::from_toml("[rules]\nendpoint-weak-cipher = \"off\"\n", "trustmap.toml").unwrap();
    assert_eq!(
        p.rule_setting("x509-serial-zero"),
        RuleSetting::Severity(Severity::High)
    );
}

#[test]
fn a_discovered_policy_only_tightens_the_built_in_one() {
    let text = "exclude = [\"vendor/\"]\n\n[expiry]\nmedium = 60\nhigh = 10\ncritical = 3\n\n\
        [expiry.lifetime_fraction]\nmedium = 0.3\nhigh = 0.01\ncritical = 0.005\n\n\
        [validity]\nprivate_max_days = 90\n\n[[validity.override]]\npath = \"legacy/**\"\nmax_days = 825\n\n\
        [keys.min_bits]\nRSA = 3072\nEC = 160\n\n[signatures]\nallowed_hashes = [\"SHA-256\", \"SHA-1\"]\n\n\
        [rotation]\nsignature = 365\nsymmetric = 9999\n\n[rules]\ncert-wildcard = \"off\"\nkey-weak = \"critical\"\n";
    let p = Policy::from_toml(text, "trustmap.toml").unwrap();
    let (t, ignored) = p.tightened(&Policy::default());
    // Stricter settings stay; looser ones take the built-in value.
    assert_eq!(
        t.expiry_windows,
        [
            (Severity::Critical, 7),
            (Severity::High, 14),
            (Severity::Medium, 60)
        ]
    );
    assert_eq!(t.expiry_fractions[1], (Severity::High, 0.1));
    assert_eq!(t.expiry_fractions[2], (Severity::Medium, 0.3));
    assert_eq!(t.private_max_days, 90);
    assert_eq!(t.validity_overrides[0].max_days, Some(90));
    assert_eq!(t.min_key_bits["RSA"], 3072);
    assert_eq!(t.min_key_bits["EC"], 224);
    assert_eq!(t.allowed_hashes, ["SHA-256"]);
    assert_eq!(t.rotation_days["signature"], 365);
    assert_eq!(t.rotation_days["symmetric"], 730);
    assert!(t.exclude.is_empty());
    assert!(t.raise_only && t.enabled("cert-wildcard"));
    assert_eq!(
        ignored,
        [
            "expiry.critical = 3 (shorter than 7)",
            "expiry.high = 10 (shorter than 14)",
            "expiry.lifetime_fraction.critical = 0.005 (smaller than 0.05)",
            "expiry.lifetime_fraction.high = 0.01 (smaller than 0.1)",
            "validity.override legacy/** max_days = 825 (longer than 90)",
            "keys.min_bits.EC = 160 (below 224)",
            "signatures.allowed_hashes \"SHA-1\" (not allowed by default)",
            "rotation.symmetric = 9999 (longer than 730)",
            "exclude \"vendor/\"",
            "rules.cert-wildcard = \"off\"",
        ]
    );
    // The built-in policy tightened by itself is itself.
    let (same, none) = Policy::default().tightened(&Policy::default());
    assert!(none.is_empty());
    assert_eq!(same.expiry_windows, Policy::default().expiry_windows);
}

#[test]
fn impact_thresholds_are_validated_with_line_and_field() {
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "[impact]\nraise_by_one_at = 0\n",
            2,
            "impact.raise_by_one_at",
            "at least 1",
        ),
        (
            "[impact]\nraise_by_one_at = 2\n\nraise_to_critical_at = -5\n",
            4,
            "impact.raise_to_critical_at",
            "at least 1",
        ),
        (
            "[impact]\nraise_by_one_at = 20\n",
            2,
            "impact.raise_by_one_at",
            "must be at least raise_by_one_at (20)",
        ),
        (
            "[impact]\nraise_by_one_at = 5\nraise_to_critical_at = 4\n",
            3,
            "impact.raise_to_critical_at",
            "raise_to_critical_at (4)",
        ),
        (
            "[impact]\nraise_at = 5\n",
            2,
            "impact.raise_at",
            "unknown field",
        ),
        (
            "[impact]\nenabled = \"no\"\n",
            2,
            "impact.enabled",
            "invalid type",
        ),
    ];
    for (text, line, field, words) in cases {
        let e = err(text);
        assert_eq!((e.line, e.field.as_str()), (*line, *field), "{text:?}: {e}");
        assert!(e.message.contains(words), "{text:?}: {e}");
    }
    let p = Policy::from_toml(
        "[impact]\nraise_by_one_at = 2\nraise_to_critical_at = 5\n",
        "t.toml",
    )
    .unwrap();
    assert_eq!(
        (
            p.impact.enabled,
            p.impact.raise_by_one_at,
            p.impact.raise_to_critical_at
        ),
        (true, 2, 5)
    );
    let off = Policy::from_toml("[impact]\nenabled = false\n", "t.toml").unwrap();
    assert!(!off.impact.enabled);
}

#[test]
fn a_discovered_policy_may_lower_impact_thresholds_but_not_raise_or_disable_them() {
    let lower = Policy::from_toml(
        "[impact]\nraise_by_one_at = 1\nraise_to_critical_at = 4\n",
        "trustmap.toml",
    )
    .unwrap();
    let (t, ignored) = lower.tightened(&Policy::default());
    assert_eq!(
        (t.impact.raise_by_one_at, t.impact.raise_to_critical_at),
        (1, 4)
    );
    assert!(ignored.is_empty(), "{ignored:?}");
    let looser = Policy::from_toml(
        "[impact]\nenabled = false\nraise_by_one_at = 5\nraise_to_critical_at = 1000\n",
        "trustmap.toml",
    )
    .unwrap();
    let (t, ignored) = looser.tightened(&Policy::default());
    assert!(t.impact.enabled);
    assert_eq!(
        (t.impact.raise_by_one_at, t.impact.raise_to_critical_at),
        (3, 10)
    );
    assert_eq!(
        ignored,
        [
            "impact.enabled = false",
            "impact.raise_by_one_at = 5 (higher than 3)",
            "impact.raise_to_critical_at = 1000 (higher than 10)",
        ]
    );
}
