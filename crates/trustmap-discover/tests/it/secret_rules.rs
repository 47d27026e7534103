//! The builtin secret rules: every example of every rule, rule-set invariants, and the
//! gitleaks importer.

use trustmap_discover::secrets::{RuleSet, SecretMatch};

fn builtin() -> &'static RuleSet {
    static SET: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
    SET.get_or_init(RuleSet::builtin)
}

#[test]
fn at_least_80_rules() {
    assert!(builtin().len() >= 80, "only {} rules", builtin().len());
}

#[test]
fn ids_are_unique_kebab_case() {
    let mut seen = std::collections::HashSet::new();
    for rule in builtin().rules() {
        let id = &rule.id;
        assert!(
            id.split('-').all(|p| !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())),
            "{id} is not kebab-case"
        );
        assert!(seen.insert(id.clone()), "duplicate id {id}");
        assert!(
            !rule.provider.is_empty() && !rule.description.is_empty(),
            "{id}"
        );
        assert!(!rule.keywords.is_empty(), "{id} has no keywords");
    }
}

#[test]
fn every_rule_has_positive_and_negative_examples() {
    for rule in builtin().rules() {
        assert!(
            rule.examples.iter().any(|e| e.secret.is_some()),
            "{} has no positive example",
            rule.id
        );
        assert!(
            rule.examples.iter().any(|e| e.secret.is_none()),
            "{} has no negative example",
            rule.id
        );
    }
}

/// Every example runs through the whole builtin set (prefilter included): a positive
/// example must be reported by its rule with exactly the given secret and byte range; a
/// negative example must not be reported by its rule.
#[test]
fn every_example_of_every_rule() {
    let set = builtin();
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule in set.rules() {
        for ex in &rule.examples {
            checked += 1;
            let found = set.scan(ex.text.as_bytes(), &ex.path);
            let mine: Vec<&SecretMatch> = found.iter().filter(|m| m.rule == rule.id).collect();
            match &ex.secret {
                Some(secret) => {
                    let ok = mine.iter().any(|m| {
                        &m.value == secret && ex.text.get(m.start..m.end) == Some(secret.as_str())
                    });
                    if !ok {
                        failures.push(format!(
                            "{} ({}): positive example not matched with its secret: {:?} -> {:?}",
                            rule.id, rule.source, ex.text, found
                        ));
                    }
                }
                None => {
                    if !mine.is_empty() {
                        failures.push(format!(
                            "{} ({}): negative example matched: {:?} -> {:?}",
                            rule.id, rule.source, ex.text, mine
                        ));
                    }
                }
            }
        }
    }
    assert!(checked > 160, "only {checked} examples");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A positive example is reported by its own rule and by no other provider rule (generic
/// rules yield, so they never double-report).
#[test]
fn positive_examples_are_not_double_reported() {
    let set = builtin();
    for rule in set.rules() {
        for ex in rule.examples.iter().filter(|e| e.secret.is_some()) {
            let found = set.scan(ex.text.as_bytes(), &ex.path);
            let secret = ex.secret.as_deref().unwrap();
            let same: Vec<_> = found.iter().filter(|m| m.value == secret).collect();
            assert_eq!(same.len(), 1, "{}: {:?}", rule.id, same);
        }
    }
}

#[test]
fn match_debug_never_shows_the_value() {
    let set = builtin();
    let rule = set.rule("github-pat-classic").unwrap();
    let ex = rule.examples.iter().find(|e| e.secret.is_some()).unwrap();
    let found = set.scan(ex.text.as_bytes(), &ex.path);
    let shown = format!("{found:?}");
    assert!(!shown.contains(ex.secret.as_deref().unwrap()), "{shown}");
}

#[test]
fn scoped_rules_follow_the_path() {
    let set = builtin();
    let text = b"DB_PASSWORD=Vt7#qR2!mZ9x\n";
    assert_eq!(set.scan(text, "deploy/.env").len(), 1);
    assert_eq!(set.scan(text, "deploy/prod.env").len(), 1);
    assert_eq!(set.scan(text, "docker-compose.override.yml").len(), 1);
    assert!(set.scan(text, "src/main.py").is_empty());
}

#[test]
fn pem_private_keys_are_not_this_modules_business() {
    let text = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n";
    assert!(builtin().scan(text.as_bytes(), "key.pem").is_empty());
    let json = r#"{"private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n"}"#;
    assert!(builtin().scan(json.as_bytes(), "sa.json").is_empty());
}

#[test]
fn many_matches_in_one_file_keep_their_offsets() {
    let set = builtin();
    let token = trustmap_discover::secrets::expand_template("ghp_«alnum*36»");
    let mut text = String::new();
    for i in 0..50 {
        text.push_str(&format!("line {i} token {token}\n"));
    }
    let found = set.scan(text.as_bytes(), "notes.txt");
    assert_eq!(found.len(), 50);
    for m in &found {
        assert_eq!(&text[m.start..m.end], token);
    }
}

const GITLEAKS: &str = r#"
title = "test config"

[allowlist]
description = "global"
stopwords = ["notasecret"]

[[rules]]
id = "acme-api-key"
description = "Acme API key"
regex = '''\b(acme_[a-z0-9]{32})\b'''
secretGroup = 1
entropy = 3.0
keywords = ["acme_"]

[rules.allowlist]
regexes = ['''acme_0{32}''']

[[rules]]
id = "widget-token"
description = "Widget token (keywords derived from the regex)"
regex = '''(?i)\bwdg-(?:live|test)-([A-Z0-9]{24})\b'''

[[rules.allowlists]]
regexTarget = "line"
regexes = ['''(?i)example''']

[[rules]]
id = "pkcs12-file"
description = "path-only rules are skipped"
path = '''\.p12$'''

[[rules]]
id = "scoped-secret"
description = "only in .cfg files"
regex = '''scoped=([a-z0-9]{20})'''
path = '''\.cfg$'''
keywords = ["scoped="]
"#;

#[test]
fn gitleaks_import() {
    let set = RuleSet::from_gitleaks_toml(GITLEAKS, "gitleaks.toml").unwrap();
    assert_eq!(set.len(), 3, "the path-only rule is skipped");
    let widget = set.rule("widget-token").unwrap();
    assert!(
        !widget.keywords.is_empty(),
        "keywords derived from the regex"
    );
    assert!(
        widget.keywords.iter().all(|k| k.starts_with("wdg-")),
        "{:?}",
        widget.keywords
    );

    let key = "acme_0123456789abcdefghijklmnopqrstuv";
    let text = format!("acme = \"{key}\"\n");
    let found = set.scan(text.as_bytes(), "a.txt");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule, "acme-api-key");
    assert_eq!(found[0].value, key);
    assert_eq!(&text[found[0].start..found[0].end], key);

    // the rule allowlist, the global stopword, low entropy
    assert!(
        set.scan(format!("k = acme_{}\n", "0".repeat(32)).as_bytes(), "a.txt")
            .is_empty()
    );
    assert!(
        set.scan(b"k = acme_notasecret0123456789abcdefghijk\n", "a.txt")
            .is_empty()
    );

    // secretGroup unset: the first non-empty group; line allowlist
    let found = set.scan(b"WIDGET=wdg-live-ABCDEFGHIJKLMNOPQRSTUV12\n", "a.env");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].value, "ABCDEFGHIJKLMNOPQRSTUV12");
    assert!(
        set.scan(b"# example: wdg-live-ABCDEFGHIJKLMNOPQRSTUV12\n", "a.env")
            .is_empty()
    );

    // path scope
    let line = b"scoped=abcdefghij0123456789\n";
    assert_eq!(set.scan(line, "app.cfg").len(), 1);
    assert!(set.scan(line, "app.txt").is_empty());

    // extend: the builtin set plus the imported rules, one prefilter
    let mut all = RuleSet::builtin();
    let n = all.len();
    all.extend(set);
    assert_eq!(all.len(), n + 3);
    let found = all.scan(text.as_bytes(), "a.txt");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule, "acme-api-key");
}

#[test]
fn gitleaks_errors_name_file_line_and_field() {
    let bad_regex = r#"
[[rules]]
id = "ok-rule"
regex = '''ok_[a-z]{10}'''

[[rules]]
id = "broken"
regex = '''broken_([a-z]{10}'''
"#;
    let err = RuleSet::from_gitleaks_toml(bad_regex, "custom.toml").unwrap_err();
    assert_eq!(err.file, "custom.toml");
    assert_eq!(err.line, 8);
    assert_eq!(err.field.as_deref(), Some("regex"));
    let shown = err.to_string();
    assert!(
        shown.starts_with("custom.toml:8: field `regex`: "),
        "{shown}"
    );

    let bad_group = r#"
[[rules]]
id = "grp"
regex = '''grp_([a-z]{10})'''
secretGroup = 3
"#;
    let err = RuleSet::from_gitleaks_toml(bad_group, "g.toml").unwrap_err();
    assert_eq!((err.line, err.field.as_deref()), (5, Some("secretGroup")));
    assert!(
        err.to_string()
            .starts_with("g.toml:5: field `secretGroup`: "),
        "{err}"
    );

    let bad_type = "[[rules]]\nid = \"t\"\nregex = '''x'''\nentropy = \"high\"\n";
    let err = RuleSet::from_gitleaks_toml(bad_type, "t.toml").unwrap_err();
    assert_eq!(err.line, 4, "{err}");

    let syntax = "[[rules]\nid = 1\n";
    let err = RuleSet::from_gitleaks_toml(syntax, "s.toml").unwrap_err();
    assert_eq!(err.file, "s.toml");
    assert_eq!(err.line, 1, "{err}");
}

#[test]
fn native_errors_name_file_line_and_field() {
    let text = r#"
[[rules]]
id = "Not_Kebab"
provider = "X"
description = "x"
keywords = ["abc"]
regex = '''abc'''
"#;
    let err = RuleSet::from_toml(text, "rules/x.toml").unwrap_err();
    assert_eq!(err.to_string().split(": ").next(), Some("rules/x.toml:3"));
    assert_eq!(err.field.as_deref(), Some("id"));

    let text = r#"
[[rules]]
id = "no-example"
provider = "X"
description = "x"
keywords = ["abc"]
regex = '''abc(def'''
"#;
    let err = RuleSet::from_toml(text, "rules/x.toml").unwrap_err();
    assert_eq!(
        (err.line, err.field.as_deref()),
        (7, Some("regex")),
        "{err}"
    );
}

/// Every positive example, with its `«SPEC*N»` markers filled by random characters of the
/// same alphabet (seeded, so the run is reproducible), is still found: a rule must accept
/// any value of its shape, not only the example's. Entropy floors set too high for short
/// random tokens fail here.
#[test]
fn positive_examples_hold_for_random_values_of_their_shape() {
    let set = builtin();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule in set.rules() {
        for ex in rule.examples.iter().filter(|e| e.template.contains('«')) {
            let Some(secret) = &ex.secret else { continue };
            let Some(pos) = ex.text.find(secret.as_str()) else {
                continue;
            };
            for _ in 0..300 {
                let text =
                    trustmap_discover::secrets::expand_template_random(&ex.template, &mut next);
                let Some(want) = text.get(pos..pos + secret.len()) else {
                    continue;
                };
                checked += 1;
                let found = set.scan(text.as_bytes(), &ex.path);
                if !found.iter().any(|m| m.rule == rule.id && m.value == want) {
                    failures.push(format!(
                        "{}: synthetic value {want:?} in {text:?} not found",
                        rule.id
                    ));
                }
            }
        }
    }
    assert!(checked > 10_000, "only {checked} random values");
    assert!(
        failures.len() <= checked / 2000,
        "{} misses:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Issue 13: passwords in the configuration formats users have, each reported once with
/// exactly its value; placeholders and references in the same formats are not.
#[test]
fn passwords_in_every_configuration_format() {
    let set = builtin();
    // (path, text, value). Values are made up for the test.
    let found: &[(&str, &str, &str)] = &[
        (
            "src/main/resources/application.properties",
            "server.ssl.key-store=classpath:keystore.p12\nserver.ssl.key-store-password=changeit\n",
            "changeit",
        ),
        (
            "config/application.yml",
            "server:\n  ssl:\n    key-store-password: changeit\n",
            "changeit",
        ),
        (
            "conf/server.xml",
            r#"<Connector port="8443" keystoreFile="conf/ks.jks" keystorePass="tomcatpass" />"#,
            "tomcatpass",
        ),
        (
            "config.json",
            r#"{"db": {"password": "Wq7-pLm2-zX9c"}}"#,
            "Wq7-pLm2-zX9c",
        ),
        ("app.ini", "[db]\npassword = Rt5!kLm9Qa\n", "Rt5!kLm9Qa"),
        (".env", "export DB_PASSWORD=Gh4#nM7xPq\n", "Gh4#nM7xPq"),
        (
            "settings.py",
            "DATABASE_URL = 'postgres://app:Zk2Vn8Lq5Rt@db.internal:5432/app'\n",
            "Zk2Vn8Lq5Rt",
        ),
        (
            "application.properties",
            "spring.datasource.url=jdbc:mysql://db:3306/shop?user=shop&password=Pm3Xq8Lr2v&useSSL=true\n",
            "Pm3Xq8Lr2v",
        ),
        (
            "appsettings.json",
            r#"{"ConnectionStrings": {"Orders": "Server=sql;Database=Orders;User Id=app;Password=Fy6Kp2Wn9s;"}}"#,
            "Fy6Kp2Wn9s",
        ),
        (
            ".npmrc",
            "//registry.internal/:_password=UGs3LW5wbS1wYXNzd29yZA==\n",
            "UGs3LW5wbS1wYXNzd29yZA==",
        ),
        (
            ".npmrc",
            "//registry.internal/:_authToken=Xb8Rk2Lm5Vq9Tz3Wc7Np\n",
            "Xb8Rk2Lm5Vq9Tz3Wc7Np",
        ),
        (
            ".pypirc",
            "[internal]\nusername = ci\npassword = Hn5-Qz8-Lw3\n",
            "Hn5-Qz8-Lw3",
        ),
        (
            ".docker/config.json",
            r#"{"auths": {"registry.internal": {"auth": "Y2k6Tm03LXF4Mi1Mdjg="}}}"#,
            "Y2k6Tm03LXF4Mi1Mdjg=",
        ),
        (
            ".kube/config",
            "users:\n- name: ci\n  user:\n    token: Tk8Lm2Qx5Vr9Wn3Zc7Bp4Hs6\n",
            "Tk8Lm2Qx5Vr9Wn3Zc7Bp4Hs6",
        ),
    ];
    for (path, text, value) in found {
        let m = set.scan(text.as_bytes(), path);
        assert_eq!(m.len(), 1, "{path}: {text}: {m:?}");
        assert_eq!(&m[0].value, value, "{path}: {text} ({})", m[0].rule);
    }
    let silent: &[(&str, &str)] = &[
        (
            "application.properties",
            "server.ssl.key-store-password=${KS_PASSWORD}\n",
        ),
        ("application.properties", "server.ssl.key-store-password=\n"),
        (
            "values.yaml",
            "keyStorePassword: {{ .Values.tls.password }}\n",
        ),
        ("config.yml", "key-password: <password>\n"),
        ("config.yml", "keystore-password: '***'\n"),
        ("config.yml", "keystore_password: xxxxxxxx\n"),
        ("app.ini", "password = changeme\n"),
        ("app.properties", "ssl.key.password=file:/run/secrets/key\n"),
        (".env", "DB_PASSWORD=$DB_PASSWORD\n"),
        (
            "application.properties",
            "jdbc.url=jdbc:postgresql://db/app?user=app&password=${DB_PW}\n",
        ),
        (".docker/config.json", r#"{"auths": {"r": {"auth": ""}}}"#),
        (
            ".kube/config",
            "users:\n- name: ci\n  user:\n    token: ${TOKEN}\n",
        ),
        ("docs/ssl.md", "server.ssl.key-store-password=changeit\n"),
    ];
    for (path, text) in silent {
        let m = set.scan(text.as_bytes(), path);
        assert!(m.is_empty(), "{path}: {text}: {m:?}");
    }
}
