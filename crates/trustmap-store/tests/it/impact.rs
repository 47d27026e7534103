//! `Store::impact` on both backends: counts per kind, owners to notify (explicit owners win
//! over inferred ones), the listed page, and gone assets.

use crate::common::{cert, meta, report, targets};
use trustmap_core::{Owner, Relation, RelationType};
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
