//! Owner rules (migration 11): a path glob's owner applies to the assets a later scan finds
//! there, on both backends, and an inventory from before the rules table opens with one.

use crate::common::{cert, meta, report, targets};
use trustmap_core::Report;
use trustmap_store::{OwnerTarget, Store};

fn scan(s: &Store, id: &str, paths: &[&str], at: &str) -> Report {
    let r = report(
        id,
        &["/srv"],
        paths.iter().map(|p| cert(p, p)).collect::<Vec<_>>(),
    );
    s.record_scan(&r, &meta("h", &[("/srv", "/srv")], at))
        .unwrap();
    r
}

/// (role, name, source, explicit) of an asset's owner records.
fn owners(s: &Store, id: &str) -> Vec<(String, String, String, bool)> {
    s.show(id)
        .unwrap()
        .owners
        .into_iter()
        .map(|o| (o.role, o.name, o.source, o.explicit))
        .collect()
}

fn owned(role: &str, name: &str, source: &str) -> (String, String, String, bool) {
    (role.into(), name.into(), source.into(), true)
}

#[test]
fn a_rule_owns_assets_recorded_after_it_and_scan_owners_decide_before_recording() {
    for t in targets("r", "rules") {
        let s = Store::open(&t.url).unwrap();
        let first = scan(
            &s,
            "scan_1",
            &["legacy/a.crt", "edge/b.crt"],
            "2026-01-01T00:00:00Z",
        );
        let (a, b) = (first.assets[0].id.clone(), first.assets[1].id.clone());
        let (rule, changes) = s
            .set_owner_rule(
                "legacy/*",
                None,
                Some("@acme/legacy"),
                Some("@acme/sre"),
                "alice",
            )
            .unwrap();
        assert_eq!(
            (rule.id, rule.set_by.as_str()),
            (1, "alice"),
            "[{}]",
            t.name
        );
        assert_eq!(changes.len(), 2, "[{}] applied now: {changes:?}", t.name);
        assert_eq!(
            owners(&s, &a),
            [
                owned("backup", "@acme/sre", "rule:1"),
                owned("owner", "@acme/legacy", "rule:1")
            ],
            "[{}]",
            t.name
        );
        assert!(owners(&s, &b).is_empty());
        // A host-bound rule does not apply on other hosts.
        s.set_owner_rule("edge/*", Some("elsewhere"), Some("@acme/edge"), None, "bob")
            .unwrap();
        assert!(owners(&s, &b).is_empty(), "[{}]", t.name);

        // What the engine asks before judging a scan: the rule decides from the scan's own
        // places, for an asset the store has never seen.
        let second = report(
            "scan_2",
            &["/srv"],
            vec![
                cert("legacy/c.crt", "legacy/c.crt"),
                cert("edge/b.crt", "edge/b.crt"),
            ],
        );
        let c = second.assets[0].id.clone();
        let before = s.scan_owners(&second.assets, "h").unwrap();
        let names: Vec<(String, String)> = before[&c]
            .iter()
            .map(|o| (o.name.clone(), o.source.clone()))
            .collect();
        assert_eq!(
            names,
            [
                ("@acme/legacy".to_string(), "rule:1".to_string()),
                ("@acme/sre".to_string(), "rule:1".to_string())
            ],
            "[{}]",
            t.name
        );
        assert!(!before.contains_key(&b), "[{}]", t.name);
        assert!(
            s.scan_owners(&second.assets, "elsewhere").unwrap()[&b][0].name == "@acme/edge",
            "[{}]",
            t.name
        );
        // ... and recording the scan writes it.
        s.record_scan(
            &second,
            &meta("h", &[("/srv", "/srv")], "2026-01-02T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(owners(&s, &c)[1], owned("owner", "@acme/legacy", "rule:1"));

        // Per-asset explicit beats the rule, across later scans.
        s.set_owner(&OwnerTarget::Asset(c.clone()), Some("@acme/mine"), None)
            .unwrap();
        scan(&s, "scan_3", &["legacy/c.crt"], "2026-01-03T00:00:00Z");
        assert_eq!(
            owners(&s, &c),
            [
                owned("backup", "@acme/sre", "rule:1"),
                owned("owner", "@acme/mine", "explicit")
            ],
            "[{}]",
            t.name
        );

        // Removed: its owners leave, and the log vouches for all of it.
        let (gone, changes) = s.remove_owner_rule(1, "carol").unwrap();
        assert_eq!(gone.glob, "legacy/*");
        assert_eq!(changes.len(), 3, "[{}] {changes:?}", t.name);
        assert_eq!(owners(&s, &c), [owned("owner", "@acme/mine", "explicit")]);
        assert!(owners(&s, &a).is_empty(), "[{}]", t.name);
        assert_eq!(s.owner_rules().unwrap().len(), 1);
        let v = s.verify_audit().unwrap();
        assert!(v.intact(), "[{}] {v:?}", t.name);

        // A rule edited in its table, or an owner row claiming a rule, is reported.
        s.execute_raw("UPDATE owner_rules SET owner = '@evil/team'")
            .unwrap();
        let v = s.verify_audit().unwrap();
        assert!(
            v.unvouched
                .iter()
                .any(|u| u.contains("owner rule 2 differs")),
            "[{}] {v:?}",
            t.name
        );
        // An owner row claiming a rule that does not give it is reported too.
        s.execute_raw(&format!(
            "INSERT INTO owners (asset_rid, role, name, source, explicit, set_at)
             SELECT rid, 'backup', '@evil/backup', 'rule:2', 1, 'x' FROM assets WHERE id = '{a}'"
        ))
        .unwrap();
        let v = s.verify_audit().unwrap();
        assert!(
            v.unvouched
                .iter()
                .any(|u| u.contains(&format!("of {a} is from owner rule 2"))),
            "[{}] {v:?}",
            t.name
        );
    }
}

#[test]
fn an_inventory_from_before_owner_rules_opens_with_them() {
    for t in targets("r", "migrate11") {
        {
            // The version before owner rules.
            let s = Store::open_at_version(&t.url, 10).unwrap();
            scan(&s, "scan_1", &["legacy/a.crt"], "2026-01-01T00:00:00Z");
            assert!(s.query_raw("SELECT COUNT(*) FROM owner_rules").is_err());
        }
        let s = Store::open(&t.url).unwrap();
        assert_eq!(
            s.schema_version().unwrap(),
            Store::latest_schema_version(),
            "[{}]",
            t.name
        );
        assert!(s.owner_rules().unwrap().is_empty());
        let (_, changes) = s
            .set_owner_rule("legacy/*", None, Some("@acme/legacy"), None, "alice")
            .unwrap();
        assert_eq!(changes.len(), 1, "[{}]", t.name);
        assert!(s.verify_audit().unwrap().intact());
    }
}
