//! API tokens (migration 12): stored hashed, created and revoked with audit events that
//! `audit verify` replays; an older inventory gains the table on open.

use crate::common::{cert, meta, report, targets};
use trustmap_store::{Store, TokenRole, token_hash};

#[test]
fn tokens_are_stored_hashed_authenticated_revoked_and_vouched_for() {
    for t in targets("tok", "tokens") {
        {
            // The version before tokens, with a scan in it.
            let s = Store::open_at_version(&t.url, 11).unwrap();
            let r = report("scan_1", &["/srv"], vec![cert("a", "a.crt")]);
            s.record_scan(&r, &meta("h1", &[("/srv", "/srv")], "2026-01-01T00:00:00Z"))
                .unwrap();
            assert!(s.query_raw("SELECT COUNT(*) FROM api_tokens").is_err());
        }
        let s = Store::open(&t.url).unwrap();
        assert!(
            s.schema_version().unwrap() >= 12,
            "[{}] migration 12 applied",
            t.name
        );
        let (row, token) = s
            .create_token("ci-scanner", TokenRole::Scanner, "cli:alice")
            .unwrap();
        assert_eq!((row.role, row.revoked_at), (TokenRole::Scanner, None));
        assert!(
            token.starts_with("tmk_") && token.len() == 4 + 64,
            "{token}"
        );
        // Only the hash is kept.
        let stored = s.query_raw("SELECT hash FROM api_tokens").unwrap();
        assert_eq!(stored[0][0], token_hash(&token));
        assert_ne!(stored[0][0], token);
        assert_eq!(
            s.authenticate_token(&token).unwrap().map(|r| r.name),
            Some("ci-scanner".to_string())
        );
        assert_eq!(s.authenticate_token("tmk_nope").unwrap(), None);
        // Names are never reused; bad names are refused.
        let e = s
            .create_token("ci-scanner", TokenRole::Admin, "x")
            .unwrap_err();
        assert_eq!(e.kind(), trustmap_store::ErrorKind::Conflict);
        for bad in ["", "  ", "a\nb", &"n".repeat(129)] {
            let e = s.create_token(bad, TokenRole::Admin, "x").unwrap_err();
            assert_eq!(e.kind(), trustmap_store::ErrorKind::InvalidInput, "{bad:?}");
        }
        assert!(s.verify_audit().unwrap().intact(), "[{}]", t.name);
        let revoked = s.revoke_token("ci-scanner", "cli:bob").unwrap();
        assert_eq!(revoked.revoked_by.as_deref(), Some("cli:bob"));
        assert_eq!(s.authenticate_token(&token).unwrap(), None, "revoked");
        assert_eq!(
            s.revoke_token("ci-scanner", "x").unwrap_err().kind(),
            trustmap_store::ErrorKind::Conflict
        );
        assert_eq!(
            s.revoke_token("nobody", "x").unwrap_err().kind(),
            trustmap_store::ErrorKind::NotFound
        );
        let kinds: Vec<(String, String)> = s
            .audit_events(None)
            .unwrap()
            .into_iter()
            .filter(|e| e.kind.starts_with("token-"))
            .map(|e| {
                (
                    e.kind,
                    e.data["by"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("token-created".to_string(), "cli:alice".to_string()),
                ("token-revoked".to_string(), "cli:bob".to_string())
            ]
        );
        assert!(s.verify_audit().unwrap().intact(), "[{}]", t.name);
        // A revocation undone by hand, a role raised: both unvouched.
        s.execute_raw("UPDATE api_tokens SET revoked_at = NULL, role = 'admin'")
            .unwrap();
        let v = s.verify_audit().unwrap();
        assert!(!v.intact());
        let said = v.unvouched.join("\n");
        assert!(
            said.contains("differs from its token-created event"),
            "{said}"
        );
        assert!(
            said.contains("is in force but its events say revoked"),
            "{said}"
        );
        // A token inserted by hand has no event.
        s.execute_raw(
            "INSERT INTO api_tokens (name, role, hash, created_at, created_by)
             VALUES ('backdoor', 'admin', 'ff', '2026-01-01T00:00:00Z', 'x')",
        )
        .unwrap();
        let said = s.verify_audit().unwrap().unvouched.join("\n");
        assert!(
            said.contains("\"backdoor\") has no token-created event"),
            "{said}"
        );
    }
}

#[test]
fn asset_pages_follow_the_listing_order() {
    for t in targets("tok", "pages") {
        let s = Store::open(&t.url).unwrap();
        let assets: Vec<_> = (0..5)
            .map(|i| cert(&format!("p{i}"), &format!("{i}.crt")))
            .collect();
        let r = report("scan_1", &["/srv"], assets);
        s.record_scan(&r, &meta("h1", &[("/srv", "/srv")], "2026-01-01T00:00:00Z"))
            .unwrap();
        let all: Vec<String> = s
            .assets(&Default::default())
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        let q = trustmap_store::AssetQuery {
            limit: Some(2),
            ..Default::default()
        };
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = s.assets_page(&q, after.as_ref()).unwrap();
            seen.extend(page.rows.into_iter().map(|a| a.id));
            match page.next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, all, "[{}]", t.name);
    }
}
