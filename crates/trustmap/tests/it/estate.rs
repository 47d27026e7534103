//! The example estate, generated fresh by `scripts/gen-estate.sh`, scanned by the real
//! binary and checked against its specification `scripts/estate-expected.json`: exact counts
//! by kind, every asset's places and properties, relations, owners and errors.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn generate_and_scan() -> (Value, Value) {
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("scripts/estate-expected.json")).unwrap(),
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("estate");
    let generated = Command::new("bash")
        .arg(repo().join("scripts/gen-estate.sh"))
        .arg(&dir)
        .output()
        .expect("run gen-estate.sh");
    assert!(
        generated.status.success(),
        "gen-estate.sh failed: {}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_trustmap"))
        .args([
            "scan",
            dir.to_str().unwrap(),
            "--format",
            "json",
            "--no-store",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (spec, serde_json::from_slice(&out.stdout).unwrap())
}

fn places(a: &Value) -> BTreeSet<(String, Option<u64>)> {
    a["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["path"].as_str().unwrap().to_string(), o["line"].as_u64()))
        .collect()
}

fn names(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|o| o.as_str().or(o["name"].as_str()).unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A message when `got` differs from a specified (non-null) `want`.
fn differs(r: &str, field: &str, got: &Value, want: &Value) -> Option<String> {
    (!want.is_null() && got != want).then(|| format!("{r}: {field} = {got}, expected {want}"))
}

#[test]
fn estate_matches_its_specification() {
    let (spec, report) = generate_and_scan();
    let assets = report["assets"].as_array().unwrap();
    let mut problems: Vec<String> = Vec::new();

    // Counts by kind.
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    for a in assets {
        *by_kind
            .entry(a["kind"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    for (kind, n) in spec["totals"]["by_kind"].as_object().unwrap() {
        let got = by_kind.get(kind).copied().unwrap_or(0);
        if Some(got) != n.as_u64() {
            problems.push(format!("{kind}: {got} assets, expected {n}"));
        }
    }

    // Each specified asset: found at exactly its places, with its properties and owners.
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for s in spec["assets"].as_array().unwrap() {
        let r = s["ref"].as_str().unwrap();
        let want = places(s);
        let Some(a) = assets
            .iter()
            .find(|a| a["kind"] == s["kind"] && places(a) == want)
        else {
            let near: Vec<_> = assets
                .iter()
                .filter(|a| a["kind"] == s["kind"] && !places(a).is_disjoint(&want))
                .map(places)
                .collect();
            problems.push(format!(
                "{r}: no {} at exactly {want:?}; nearest {near:?}",
                s["kind"]
            ));
            continue;
        };
        ids.insert(r.to_string(), a["id"].as_str().unwrap().to_string());
        if let Some(c) = s.get("certificate") {
            let g = &a["certificate"];
            for f in [
                "subject",
                "is_ca",
                "self_signed",
                "signature_algorithm",
                "signature_hash",
            ] {
                problems.extend(differs(r, f, &g[f], &c[f]));
            }
            for f in ["algorithm", "bits", "curve"] {
                problems.extend(differs(
                    r,
                    &format!("public_key.{f}"),
                    &g["public_key"][f],
                    &c["public_key"][f],
                ));
            }
            let sans: BTreeSet<String> = names(&g["sans"])
                .into_iter()
                .map(|s| s.split_once(':').map_or(s.clone(), |(_, v)| v.to_string()))
                .collect();
            let want_sans: BTreeSet<String> = names(&c["sans"])
                .into_iter()
                .map(|s| s.split_once(':').map_or(s.clone(), |(_, v)| v.to_string()))
                .collect();
            if sans != want_sans {
                problems.push(format!("{r}: sans {sans:?}, expected {want_sans:?}"));
            }
        }
        if let Some(k) = s.get("key") {
            for f in ["algorithm", "bits", "curve", "format", "encrypted"] {
                problems.extend(differs(r, f, &a["key"][f], &k[f]));
            }
            if k["identity"] == "spki" && a["key"]["spki_sha256"].is_null() {
                problems.push(format!("{r}: no spki_sha256"));
            }
        }
        if let Some(k) = s.get("keystore") {
            problems.extend(differs(
                r,
                "keystore.locked",
                &a["keystore"]["locked"],
                &k["locked"],
            ));
            let opened = k["password"]
                .as_str()
                .and_then(|p| p.split_whitespace().next())
                .filter(|_| k["locked"] == false);
            if let Some(p) = opened {
                problems.extend(differs(
                    r,
                    "keystore.opened_with",
                    &a["keystore"]["opened_with"],
                    &Value::from(p),
                ));
            }
        }
        let got_owners = names(&a["owners"]);
        let want_owners = names(&s["owners"]);
        if got_owners != want_owners {
            problems.push(format!(
                "{r}: owners {got_owners:?}, expected {want_owners:?}"
            ));
        }
    }

    // Relations: every specified one exists; no unexpected issued-by or contains.
    let rels: BTreeSet<(String, String, String)> = report["relations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["from"].as_str().unwrap().into(),
                x["to"].as_str().unwrap().into(),
                x["type"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut want_rels = BTreeSet::new();
    for x in spec["relations"].as_array().unwrap() {
        let (Some(f), Some(t)) = (
            ids.get(x["from"].as_str().unwrap()),
            ids.get(x["to"].as_str().unwrap()),
        ) else {
            problems.push(format!("relation {x}: an end was not found"));
            continue;
        };
        let rel = (
            f.clone(),
            t.clone(),
            x["type"].as_str().unwrap().to_string(),
        );
        if !rels.contains(&rel) {
            problems.push(format!("missing relation {x}"));
        }
        want_rels.insert(rel);
    }
    for rel in &rels {
        // key-of from a private key to its public key is ours on top of the spec.
        let to_public_key = rel.2 == "key-of" && rel.1.starts_with("pub_");
        if !want_rels.contains(rel) && !to_public_key {
            problems.push(format!("unexpected relation {rel:?}"));
        }
    }

    // Errors: exactly the broken file.
    let got_errors: BTreeSet<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_string())
        .collect();
    let want_errors: BTreeSet<String> = spec["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_string())
        .collect();
    if got_errors != want_errors {
        problems.push(format!(
            "errors at {got_errors:?}, expected {want_errors:?}: {}",
            report["errors"]
        ));
    }
    assert_eq!(report["scan"]["files_scanned"], spec["totals"]["files"]);
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
