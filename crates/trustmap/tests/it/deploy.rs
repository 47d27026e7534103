//! The deployment files in `deploy/` as shipped: the Kubernetes manifests pass their kinds'
//! schemas (strict), the systemd units pass `systemd-analyze verify`, and the `trustmap scan`
//! command line of each (the systemd service's ExecStart, the CronJob's and the DaemonSet's
//! container commands) is run as written, through a shell, against a local `trustmap serve`:
//! only the server's address, the token file and the scanned directories are swapped for the
//! test's, and the scanner runs from an empty directory that is also its HOME, checked still
//! empty afterwards (as a pod with `readOnlyRootFilesystem` needs; the tests run as root,
//! which file modes do not stop). Each scan must arrive under its host name.

use crate::common::{backends, ec_cert};
use crate::consumers_more::kubernetes_schema_check;
use crate::serve::{Serve, get, token};
use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy")
        .join(rel)
}

/// The `trustmap scan ...` command of a shell snippet in `text`: from the line holding
/// `trustmap scan` through the line holding `--token-file`, joined (YAML's folded `>-` and
/// systemd's `\` continuations alike), without a trailing `;`.
fn scan_command(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.contains("trustmap scan"))
        .expect("a trustmap scan command");
    let end = start
        + lines[start..]
            .iter()
            .position(|l| l.contains("--token-file"))
            .expect("a --token-file");
    let joined: Vec<&str> = lines[start..=end]
        .iter()
        .map(|l| l.trim().trim_end_matches('\\').trim())
        .collect();
    let cmd = joined.join(" ");
    let cmd = &cmd[cmd.find("trustmap scan").expect("found above")..];
    cmd.trim_end_matches(';').trim().to_string()
}

#[test]
fn the_shipped_manifests_and_units_are_valid_and_their_scan_commands_push() {
    // Schemas, strict.
    let manifests = [
        deploy("kubernetes/cronjob.yaml"),
        deploy("kubernetes/daemonset.yaml"),
    ];
    let files: Vec<&Path> = manifests.iter().map(PathBuf::as_path).collect();
    assert_eq!(
        kubernetes_schema_check(&files),
        Vec::<String>::new(),
        "every object has a schema"
    );

    let db = backends("deploy", "cmds").remove(0);
    let s = Serve::start(&db, &[]);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let tok = w.join("token");
    std::fs::write(&tok, token(&db, "scanner", "fleet")).unwrap();
    let reader = token(&db, "reader", "watch");
    // `trustmap` on PATH, as in the image and on the host.
    let bin = w.join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_trustmap"), bin.join("trustmap")).unwrap();
    // The working directory and HOME, to stay empty.
    let ro = w.join("ro");
    std::fs::create_dir(&ro).unwrap();
    let tree = |name: &str| -> String {
        let d = w.join(name);
        std::fs::create_dir_all(&d).unwrap();
        ec_cert(&d, name, "30");
        d.to_string_lossy().into_owned()
    };

    // systemd: the ExecStart line, checked by systemd-analyze with the binary it names
    // swapped for this one, then run.
    let unit = std::fs::read_to_string(deploy("systemd/trustmap-scan.service")).unwrap();
    let timer = std::fs::read_to_string(deploy("systemd/trustmap-scan.timer")).unwrap();
    let units = w.join("units");
    std::fs::create_dir(&units).unwrap();
    std::fs::write(
        units.join("trustmap-scan.service"),
        unit.replace("/usr/local/bin/trustmap", env!("CARGO_BIN_EXE_trustmap")),
    )
    .unwrap();
    std::fs::write(units.join("trustmap-scan.timer"), &timer).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(units.join("trustmap-scan.service"))
        .arg(units.join("trustmap-scan.timer"))
        .output()
        .expect("systemd-analyze is installed (scripts/test installs systemd)");
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "systemd-analyze verify: {out:?}"
    );
    let host_cmd = scan_command(&unit.replace("/usr/local/bin/trustmap", "trustmap"))
        .replace(
            "/etc /opt /srv /home",
            &format!("{} {}", tree("etc"), tree("srv")),
        )
        .replace("https://trustmap.example.com:8443", s.base());
    let cronjob = std::fs::read_to_string(&manifests[0]).unwrap();
    let cluster_cmd = scan_command(&cronjob)
        .replace("/work/cluster", &tree("cluster"))
        .replace("https://trustmap.example.com:8443", s.base())
        .replace("/token/token", tok.to_str().unwrap());
    let daemonset = std::fs::read_to_string(&manifests[1]).unwrap();
    let node_cmd = scan_command(&daemonset)
        .replace(
            "/host/etc /host/var/lib/kubelet/pki",
            &format!("{} {}", tree("host-etc"), tree("kubelet-pki")),
        )
        .replace("https://trustmap.example.com:8443", s.base())
        .replace("/token/token", tok.to_str().unwrap());
    let hostname = String::from_utf8(Command::new("hostname").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string();
    for (cmd, host) in [
        (&host_cmd, hostname.as_str()),
        (&cluster_cmd, "cluster-prod"),
        (&node_cmd, "node-7"),
    ] {
        let status = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(&ro)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("HOME", &ro)
            .env("CREDENTIALS_DIRECTORY", w)
            .env("NODE_NAME", "node-7")
            .env_remove("TRUSTMAP_DB")
            .env_remove("TRUSTMAP_TOKEN")
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let scans = get(&s, "/api/v1/scans", &reader);
        assert!(
            scans["scans"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["host"] == host),
            "{cmd}: no scan from {host}: {scans}"
        );
    }
    // Nothing was written where the scanner ran.
    assert_eq!(std::fs::read_dir(&ro).unwrap().count(), 0);
}
