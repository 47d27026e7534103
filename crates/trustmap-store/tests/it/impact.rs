//! `Store::impact` on both backends: counts per kind, owners to notify (explicit owners win
//! over inferred ones), the listed page, and gone assets.

use crate::common::{cert, meta, report, targets};
use trustmap_core::{AssetKind, Owner, Relation, RelationType};
use trustmap_store::{OwnerTarget, Store};

fn owned(mut a: trustmap_core::Asset, team: &str) -> trustmap_core::Asset {
    a.owners = vec![Owner {
        name: team.into(),
        role: "owner".into(),
        source: "CODEOWNERS:1".into(),
    }];
    a
}

fn rel(from: &str, to: &str, kind: RelationType) -> Relation {
    Relation {
        from: from.into(),
        to: to.into(),
        kind,
    }
}

#[test]
fn impact_counts_every_dependant_and_its_effective_owners_but_lists_a_page() {
    for t in targets("impact", "counts") {
        let store = Store::open(&t.url).unwrap();
        // root <- int <- leaf0..leaf4 (issued-by); leaves owned by team-a, except leaf0 with
        // an explicit owner team-x on top of its inferred team-a.
        let root = owned(cert("root", "pki/root.crt"), "team-r");
        let int = owned(cert("int", "pki/int.crt"), "team-r");
        let leaves: Vec<_> = (0..5)
            .map(|i| {
                owned(
                    cert(&format!("leaf{i}"), &format!("pki/l{i}.crt")),
                    "team-a",
                )
            })
            .collect();
        let mut relations = vec![rel(&int.id, &root.id, RelationType::IssuedBy)];
        for l in &leaves {
            relations.push(rel(&l.id, &int.id, RelationType::IssuedBy));
        }
        relations.sort();
        let mut assets = vec![root.clone(), int.clone()];
        assets.extend(leaves.iter().cloned());
        let mut r = report("scan_i1", &["/srv"], assets);
        r.relations = relations;
        store
            .begin_scan(&r, &meta("h", &[("/srv", "/srv")], "2026-01-01T00:01:00Z"))
            .unwrap()
            .commit()
            .unwrap();
        store
            .set_owner(
                &OwnerTarget::Asset(leaves[0].id.clone()),
                Some("team-x"),
                None,
            )
            .unwrap();

        let i = store.impact(&root.id, 2, false).unwrap();
        assert_eq!(i.total, 6, "[{}]", t.name);
        assert_eq!(i.by_kind.get("certificate"), Some(&6), "[{}]", t.name);
        assert_eq!(i.nodes.len(), 2, "[{}] the first page only", t.name);
        assert_eq!(i.nodes[0].id, int.id);
        assert_eq!(
            (i.nodes[0].depth, i.nodes[0].via.as_str()),
            (1, root.id.as_str())
        );
        assert_eq!(i.nodes[0].relation, "issued-by");
        assert_eq!(i.nodes[0].owner.as_deref(), Some("team-r"));
        assert_eq!(i.nodes[1].depth, 2);
        // team-x replaces team-a on leaf0 (explicit wins); every asset counted once.
        assert_eq!(
            i.owners
                .iter()
                .map(|(k, v)| (k.as_str(), *v))
                .collect::<Vec<_>>(),
            [("team-a", 4), ("team-r", 1), ("team-x", 1)],
            "[{}]",
            t.name
        );
        assert!(!i.cut_short);
        // A leaf breaks nothing.
        let l = store.impact(&leaves[1].id, 50, false).unwrap();
        assert_eq!((l.total, l.nodes.len()), (0, 0));
    }
}

fn kind(mut a: trustmap_core::Asset, k: AssetKind) -> trustmap_core::Asset {
    a.kind = k;
    a
}

/// Everything `impact` answers, as JSON, for comparing the kept path with the walk.
fn answer(i: &trustmap_store::Impact) -> serde_json::Value {
    serde_json::to_value(i).unwrap()
}

/// Every asset's impact read from the kept counts equals the walk's, at several page sizes.
fn same_as_walk(store: &Store, ids: &[String], what: &str) {
    for id in ids {
        for limit in [1, 3, 100] {
            let kept = store.impact(id, limit, false).unwrap();
            let walked = store.impact_walked(id, limit, false).unwrap();
            assert_eq!(answer(&kept), answer(&walked), "{what}: {id} limit {limit}");
            // Gone assets included: always walked.
            let kept = store.impact(id, limit, true).unwrap();
            let walked = store.impact_walked(id, limit, true).unwrap();
            assert_eq!(answer(&kept), answer(&walked), "{what}: {id} gone too");
        }
    }
}

#[test]
fn kept_blast_radius_equals_the_walk_through_shared_keys_cycles_gone_assets_and_owner_changes() {
    // Keep every asset with a dependant, so this small estate takes the kept path.
    Store::set_reach_min_kept(1);
    for t in targets("impact", "kept") {
        let store = Store::open(&t.url).unwrap();
        let c = |s: &str, team: &str| owned(cert(s, &format!("pki/{s}.crt")), team);
        // root <- int1, int2; int1 <- l0, l1, l2; int2 <- l3, l4, l5; key kN key-of lN;
        // consumer u0 uses l0 and k0 (two paths from k0); u1 uses l1 and l2 (two paths
        // from int1); keystore ks contains l3, k3 and root; endpoint e4 serves l4; u5 uses
        // l5 (gone in the second scan). A cross-signed pair x <-> y and z issued by x: a
        // cycle, walked.
        let root = c("root", "team-r");
        let ints = [c("int1", "team-r"), c("int2", "team-r")];
        let leaves: Vec<_> = (0..6).map(|i| c(&format!("l{i}"), "team-a")).collect();
        let keys: Vec<_> = (0..6)
            .map(|i| kind(c(&format!("k{i}"), "team-k"), AssetKind::PrivateKey))
            .collect();
        let u0 = kind(c("u0", "team-u"), AssetKind::Consumer);
        let u1 = kind(c("u1", "team-u"), AssetKind::Consumer);
        let u5 = kind(c("u5", "team-v"), AssetKind::Consumer);
        let ks = kind(c("ks", "team-s"), AssetKind::Keystore);
        let e4 = kind(c("e4", "team-e"), AssetKind::Endpoint);
        let (x, y, z) = (c("x", "team-x"), c("y", "team-x"), c("z", "team-z"));
        let mut rels = vec![
            rel(&ints[0].id, &root.id, RelationType::IssuedBy),
            rel(&ints[1].id, &root.id, RelationType::IssuedBy),
            rel(&u0.id, &leaves[0].id, RelationType::Uses),
            rel(&u0.id, &keys[0].id, RelationType::Uses),
            rel(&u1.id, &leaves[1].id, RelationType::Uses),
            rel(&u1.id, &leaves[2].id, RelationType::Uses),
            rel(&ks.id, &leaves[3].id, RelationType::Contains),
            rel(&ks.id, &keys[3].id, RelationType::Contains),
            rel(&ks.id, &root.id, RelationType::Contains),
            rel(&e4.id, &leaves[4].id, RelationType::Serves),
            rel(&u5.id, &leaves[5].id, RelationType::Uses),
            rel(&x.id, &y.id, RelationType::IssuedBy),
            rel(&y.id, &x.id, RelationType::IssuedBy),
            rel(&z.id, &x.id, RelationType::IssuedBy),
        ];
        for (i, l) in leaves.iter().enumerate() {
            rels.push(rel(&l.id, &ints[i / 3].id, RelationType::IssuedBy));
            rels.push(rel(&keys[i].id, &l.id, RelationType::KeyOf));
        }
        rels.sort();
        let mut assets = vec![root.clone(), u0, u1, ks, e4, x, y, z];
        assets.extend(ints.iter().cloned());
        assets.extend(leaves.iter().cloned());
        assets.extend(keys.iter().cloned());
        let mut ids: Vec<String> = assets.iter().map(|a| a.id.clone()).collect();
        ids.push(u5.id.clone());
        let mut first = assets.clone();
        first.push(u5.clone());
        let mut r = report("scan_k1", &["/srv"], first);
        r.relations = rels.clone();
        let m = |at: &str| meta("h", &[("/srv", "/srv")], at);
        store.record_scan(&r, &m("2026-01-01T00:01:00Z")).unwrap();
        let kept_rows = |s: &Store| {
            s.query_raw("SELECT COUNT(*) FROM reach").unwrap()[0][0]
                .parse::<usize>()
                .unwrap()
        };
        assert!(kept_rows(&store) > 0, "[{}] the kept path is taken", t.name);
        let i = store.impact(&root.id, 100, false).unwrap();
        // ints 2, leaves 6, u0, u1, ks, e4, u5 = 13; the keys do not depend on the root.
        assert_eq!(i.total, 13, "[{}]", t.name);
        assert_eq!(i.by_kind.get("consumer"), Some(&3));
        same_as_walk(&store, &ids, "first scan");
        // k0: l0 and u0, u0 reached twice, counted once.
        assert_eq!(store.impact(&keys[0].id, 10, false).unwrap().total, 2);

        // The second scan no longer sees u5: gone, left out unless asked.
        let mut r = report("scan_k2", &["/srv"], assets.clone());
        r.relations = rels.clone();
        store.record_scan(&r, &m("2026-01-02T00:01:00Z")).unwrap();
        assert_eq!(store.impact(&root.id, 100, false).unwrap().total, 12);
        assert_eq!(store.impact(&root.id, 100, true).unwrap().total, 13);
        same_as_walk(&store, &ids, "u5 gone");

        // Owners change without a scan: per asset, then a rule, then the rule removed.
        store
            .set_owner(
                &OwnerTarget::Asset(leaves[1].id.clone()),
                Some("team-n"),
                None,
            )
            .unwrap();
        let owners = store.impact(&root.id, 1, false).unwrap().owners;
        assert_eq!(owners.get("team-n"), Some(&1), "[{}] {owners:?}", t.name);
        assert_eq!(owners.get("team-a"), Some(&5), "[{}] {owners:?}", t.name);
        same_as_walk(&store, &ids, "explicit owner");
        let (rule, _) = store
            .set_owner_rule("pki/l*", None, Some("team-rule"), None, "test")
            .unwrap();
        let owners = store.impact(&root.id, 1, false).unwrap().owners;
        // l1 keeps its per-asset owner; the other five leaves follow the rule.
        assert_eq!(owners.get("team-rule"), Some(&5), "[{}] {owners:?}", t.name);
        assert_eq!(owners.get("team-a"), None, "[{}] {owners:?}", t.name);
        same_as_walk(&store, &ids, "owner rule");
        store.remove_owner_rule(rule.id, "test").unwrap();
        assert_eq!(
            store
                .impact(&root.id, 1, false)
                .unwrap()
                .owners
                .get("team-a"),
            Some(&5)
        );
        same_as_walk(&store, &ids, "rule removed");

        // A scan that is not committed leaves the kept answers as they were.
        let before = answer(&store.impact(&root.id, 100, false).unwrap());
        let mut r = report("scan_k3", &["/srv"], vec![root.clone()]);
        r.relations = vec![];
        drop(store.begin_scan(&r, &m("2026-01-03T00:01:00Z")).unwrap());
        assert_eq!(answer(&store.impact(&root.id, 100, false).unwrap()), before);
        same_as_walk(&store, &ids, "scan rolled back");
    }
}

#[test]
fn migration_13_keeps_the_blast_radius_of_an_inventory_recorded_before_it() {
    Store::set_reach_min_kept(1);
    for t in targets("impact", "mig13") {
        let root = owned(cert("root", "pki/root.crt"), "team-r");
        let leaves: Vec<_> = (0..3)
            .map(|i| owned(cert(&format!("m{i}"), &format!("pki/m{i}.crt")), "team-a"))
            .collect();
        let mut r = report("scan_m1", &["/srv"], {
            let mut v = vec![root.clone()];
            v.extend(leaves.iter().cloned());
            v
        });
        r.relations = leaves
            .iter()
            .map(|l| rel(&l.id, &root.id, RelationType::IssuedBy))
            .collect();
        r.relations.sort();
        {
            let s = Store::open_at_version(&t.url, 12).unwrap();
            s.record_scan(&r, &meta("h", &[("/srv", "/srv")], "2026-01-01T00:01:00Z"))
                .unwrap();
        }
        let store = Store::open(&t.url).unwrap();
        let rows = store
            .query_raw("SELECT total FROM reach ORDER BY rid")
            .unwrap();
        assert_eq!(rows, vec![vec!["3".to_string()]], "[{}]", t.name);
        let i = store.impact(&root.id, 2, false).unwrap();
        assert_eq!(
            answer(&i),
            answer(&store.impact_walked(&root.id, 2, false).unwrap())
        );
        assert_eq!(i.owners.get("team-a"), Some(&3));
    }
}
