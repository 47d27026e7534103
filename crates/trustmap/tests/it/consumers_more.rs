//! Consumers beyond web servers: Kubernetes objects resolved to the Secrets of the scan by
//! namespace and name (YAML, multi-document, `kind: List` as JSON), applications and data
//! stores naming files (PostgreSQL, Redis, Spring Boot, docker-compose, systemd), and an
//! Apache httpd configuration that `apache2ctl -t` accepts. Every `uses` edge is compared
//! with the wiring the test built.

use base64::Engine as _;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::common::{id_at, scan_json};
use crate::consumers::pki;

fn b64(path: &Path) -> String {
    base64::engine::general_purpose::STANDARD.encode(std::fs::read(path).unwrap())
}

/// The consumer named `name` (its id).
fn consumer(report: &Value, name: &str) -> String {
    report["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "consumer" && a["consumer"]["name"] == name)
        .unwrap_or_else(|| panic!("no consumer {name}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// (directive, value, resolution) of each reference of consumer `id`.
fn refs(report: &Value, id: &str) -> Vec<(String, String, String)> {
    let a = report["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap();
    a["consumer"]["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["directive"].as_str().unwrap().into(),
                r["value"].as_str().unwrap().into(),
                r["resolution"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn uses(report: &Value) -> BTreeSet<(String, String)> {
    report["relations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "uses")
        .map(|r| {
            (
                r["from"].as_str().unwrap().to_string(),
                r["to"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Checks Kubernetes manifests against the schema of their kind (`kubernetes-validate.py`,
/// strict: unknown fields are errors) and returns the objects it has no schema for
/// (`APIVERSION KIND NAME`: custom resources). A missing checker fails the test.
pub(crate) fn kubernetes_schema_check(files: &[&Path]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kubernetes-validate.py");
    let out = Command::new("python3")
        .arg(script)
        .args(files)
        .output()
        .expect("python3 is installed (scripts/test installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the manifests follow the schemas of their kinds (kubernetes-validate; scripts/test installs it):\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("unchecked "))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_kubernetes_schema_check_rejects_what_the_api_server_would() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good.yaml");
    std::fs::write(
        &good,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: b}\ntype: kubernetes.io/tls\ndata: {tls.crt: '', tls.key: ''}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec: {gatewayClassName: x, listeners: [{name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: a, namespace: b}]}}]}\n",
    )
    .unwrap();
    // The Gateway against Gateway API's CRD; an Istio Gateway has no schema here.
    std::fs::write(
        tmp.path().join("istio.yaml"),
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: ig}\nspec: {}\n",
    )
    .unwrap();
    assert_eq!(
        kubernetes_schema_check(&[&good, &tmp.path().join("istio.yaml")]),
        ["networking.istio.io/v1 Gateway ig"]
    );
    // A Deployment without its required selector, a field the Pod spec does not have.
    for bad in [
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: x}]\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: x}]\n  secretz: []\n",
        // cert-manager: the required issuerRef missing; a field its CRD does not declare.
        "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c}\nspec: {secretName: s}\n",
        "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c}\nspec: {secretName: s, issuerRef: {name: i}, renewBeforeDays: 3}\n",
        // Gateway API: a listener without its port.
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec: {gatewayClassName: x, listeners: [{name: https, protocol: HTTPS}]}\n",
    ] {
        let f = tmp.path().join("bad.yaml");
        std::fs::write(&f, bad).unwrap();
        let out = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kubernetes-validate.py"))
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("invalid"));
    }
}

fn t(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.into(), b.into(), c.into())
}

#[test]
fn kubernetes_objects_use_the_secrets_of_the_scan_by_namespace_and_name() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    pki(&root);
    let pk = root.join("pki");
    let k8s = root.join("k8s");
    std::fs::create_dir_all(&k8s).unwrap();
    // The shop's TLS Secret, and a credentials Secret, in one multi-document file.
    std::fs::write(
        k8s.join("secrets.yaml"),
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: shop-tls\n  namespace: shop\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  tls.key: {}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: builder-token\n  namespace: shop\n  annotations:\n    kubernetes.io/service-account.name: builder\ntype: kubernetes.io/service-account-token\n",
            b64(&pk.join("shop.crt")),
            b64(&pk.join("shop.key"))
        ),
    )
    .unwrap();
    // An Ingress using it and one cert-manager will fill; a Certificate that says so.
    std::fs::write(
        k8s.join("ingress.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: shop\n  labels:\n    team: storefront\nspec:\n  tls:\n    - hosts: [shop.example.test]\n      secretName: shop-tls\n    - hosts: [api.example.test]\n      secretName: api-tls\n  rules: []\n---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  secretName: api-tls\n  dnsNames: [api.example.test]\n  renewBefore: 360h\n  issuerRef:\n    name: internal-ca\n    kind: ClusterIssuer\n",
    )
    .unwrap();
    // `kubectl get -o json` of a List: a Deployment mounting the Secret and reading a
    // Secret that is not in the scan (its namespace's Secrets are: a finding), and a Pod in
    // a namespace whose Secrets are kept elsewhere (not judged).
    let list = serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "shop-api", "namespace": "shop"},
                "spec": {"selector": {"matchLabels": {"app": "shop-api"}},
                         "template": {"metadata": {"labels": {"app": "shop-api"}}, "spec": {
                    "containers": [{
                        "name": "api",
                        "image": "registry.example.test/shop:1",
                        "envFrom": [{"secretRef": {"name": "shop-db"}}]
                    }],
                    "volumes": [{"name": "tls", "secret": {"secretName": "shop-tls"}}]
                }}}
            },
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "probe", "namespace": "monitoring"},
                "spec": {"containers": [{"name": "p", "image": "x", "env": [{
                    "name": "TOKEN",
                    "valueFrom": {"secretKeyRef": {"name": "probe-token", "key": "t"}}
                }]}]}
            }
        ]
    });
    std::fs::write(
        k8s.join("workloads.json"),
        serde_json::to_string_pretty(&list).unwrap(),
    )
    .unwrap();

    // Valid for the API server: every object against the schema of its kind, cert-manager's
    // Certificate against its CRD's (tests/crd-schemas).
    assert_eq!(
        kubernetes_schema_check(&[
            &k8s.join("secrets.yaml"),
            &k8s.join("ingress.yaml"),
            &k8s.join("workloads.json"),
        ]),
        Vec::<String>::new()
    );
    let report = scan_json(&root, &[]);
    let shop_crt = id_at(&report, "certificate", "pki/shop.crt");
    let shop_key = id_at(&report, "private-key", "pki/shop.key");
    // The Secret's material is the same asset as the files, placed in the Secret.
    let crt = report["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == shop_crt)
        .unwrap();
    assert!(
        crt["occurrences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["path"] == "k8s/secrets.yaml"
                && o["container"] == "Secret shop/shop-tls data.tls.crt, base64"),
        "{crt}"
    );
    let ingress = consumer(&report, "Ingress shop/web");
    let cert = consumer(&report, "Certificate shop/api");
    let deploy = consumer(&report, "Deployment shop/shop-api");
    let pod = consumer(&report, "Pod monitoring/probe");
    let account = consumer(&report, "ServiceAccount shop/builder");
    assert_eq!(
        refs(&report, &ingress),
        [
            t("spec.tls[0].secretName", "shop/shop-tls", "secret"),
            t("spec.tls[1].secretName", "shop/api-tls", "certificate"),
        ]
    );
    assert_eq!(
        refs(&report, &cert),
        [t("spec.secretName", "shop/api-tls", "certificate")]
    );
    assert_eq!(
        refs(&report, &deploy),
        [
            t(
                "spec.template.spec.volumes[0].secret",
                "shop/shop-tls",
                "secret"
            ),
            t(
                "spec.template.spec.containers[0] (api) envFrom[0].secretRef",
                "shop/shop-db",
                "missing"
            ),
        ]
    );
    assert_eq!(refs(&report, &pod)[0].2, "not-in-scan");
    assert_eq!(refs(&report, &account)[0].2, "no-material");
    // Who renews the certificate, and the Ingress's owner from its labels.
    let attrs = |id: &str| {
        report["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap()
            .clone()
    };
    let c = attrs(&cert);
    assert_eq!(
        c["consumer"]["attributes"]["issuer"],
        "ClusterIssuer/internal-ca"
    );
    assert_eq!(c["consumer"]["attributes"]["renew_before"], "360h");
    assert_eq!(attrs(&ingress)["owners"][0]["name"], "storefront");
    // The edges: exactly those wired.
    let want: BTreeSet<(String, String)> = [
        (&ingress, &shop_crt),
        (&ingress, &shop_key),
        (&deploy, &shop_crt),
        (&deploy, &shop_key),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(uses(&report), want);
    // One finding: the Deployment's missing Secret, at its line in the JSON.
    let missing: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "config-reference-missing")
        .collect();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0]["path"], "k8s/workloads.json");
    let json = std::fs::read_to_string(k8s.join("workloads.json")).unwrap();
    let line = json.lines().position(|l| l.contains("shop-db")).unwrap() + 1;
    assert_eq!(missing[0]["line"], line as u64);
}

fn apache2ctl_t(conf: &Path) -> (bool, String) {
    let out = Command::new("apache2ctl")
        .arg("-t")
        .arg("-f")
        .arg(conf)
        .output()
        .expect("apache2ctl is installed (scripts/test installs apache2)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn applications_and_data_stores_use_the_files_they_name() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    pki(&root);
    let pk = root.join("pki");
    let p = |f: &str| pk.join(f).display().to_string();
    for d in [
        "apache",
        "postgres",
        "redis",
        "app",
        "compose",
        "systemd",
        "terraform",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    // Apache httpd, checked by httpd itself (it opens the files it names).
    let apache = root.join("apache/httpd.conf");
    std::fs::write(
        &apache,
        format!(
            "ServerRoot /etc/apache2\nServerName localhost\nPidFile {0}/httpd.pid\nErrorLog /dev/null\nLoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\nLoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\nLoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\nListen 127.0.0.1:18446\n<VirtualHost 127.0.0.1:18446>\n  ServerName api.example.test\n  SSLEngine on\n  SSLCertificateFile {1}\n  SSLCertificateKeyFile {2}\n  SSLCACertificateFile {3}\n</VirtualHost>\n",
            root.join("apache").display(),
            p("api.crt"),
            p("api.key"),
            p("int.crt")
        ),
    )
    .unwrap();
    let (ok, err) = apache2ctl_t(&apache);
    assert!(ok, "apache2ctl -t accepts the configuration: {err}");
    // httpd itself rejects a configuration naming a key that is not there.
    let gone = root.join("gone-httpd.conf");
    let text = std::fs::read_to_string(&apache)
        .unwrap()
        .replace(&p("api.key"), &p("gone.key"));
    std::fs::write(&gone, text).unwrap();
    let (ok, err) = apache2ctl_t(&gone);
    assert!(!ok && err.contains("gone.key"), "{err}");
    std::fs::remove_file(&gone).unwrap();
    std::fs::write(
        root.join("postgres/postgresql.conf"),
        format!(
            "listen_addresses = 'localhost'\nssl = on\nssl_cert_file = '{}'\nssl_key_file = '../pki/shop.key'\nssl_ca_file = '{}'\n",
            p("shop.crt"),
            p("root.crt")
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("redis/redis.conf"),
        format!(
            "port 0\ntls-port 6379\ntls-cert-file {}\ntls-key-file {}\n",
            p("api.crt"),
            p("gone.key")
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("app/application.yml"),
        format!(
            "server:\n  port: 8443\n  ssl:\n    certificate: {}\n    certificate-private-key: {}\n",
            p("shop.crt"),
            p("shop.key")
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("compose/docker-compose.yml"),
        "services:\n  web:\n    image: nginx\n    volumes:\n      - ../pki/api.crt:/etc/nginx/tls.crt:ro\n    secrets:\n      - web_key\nsecrets:\n  web_key:\n    file: ../pki/api.key\n",
    )
    .unwrap();
    std::fs::write(
        root.join("systemd/ledger.service"),
        format!(
            "[Unit]\nDescription=ledger\n[Service]\nLoadCredential=tls.crt:{}\nExecStart=/usr/bin/ledger\n",
            p("int.crt")
        ),
    )
    .unwrap();

    std::fs::write(
        root.join("terraform/main.tf"),
        "resource \"aws_acm_certificate\" \"shop\" {\n  private_key      = file(\"${path.module}/../pki/shop.key\")\n  certificate_body = file(\"${path.module}/../pki/shop.crt\")\n}\n\nresource \"aws_lb_listener\" \"https\" {\n  port            = 443\n  protocol        = \"HTTPS\"\n  certificate_arn = aws_acm_certificate.shop.arn\n  default_action {\n    type = \"forward\"\n  }\n}\n",
    )
    .unwrap();

    let report = scan_json(&root, &[]);
    let id = |kind: &str, path: &str| id_at(&report, kind, path);
    let (api_crt, api_key, shop_crt, shop_key, int_crt, root_crt) = (
        id("certificate", "pki/api.crt"),
        id("private-key", "pki/api.key"),
        id("certificate", "pki/shop.crt"),
        id("private-key", "pki/shop.key"),
        id("certificate", "pki/int.crt"),
        id("certificate", "pki/root.crt"),
    );
    let vhost = consumer(&report, "VirtualHost 127.0.0.1:18446 (api.example.test)");
    let pg = consumer(&report, "postgresql");
    let redis = consumer(&report, "redis");
    let spring = consumer(&report, "server.ssl");
    let web = consumer(&report, "service web");
    let unit = consumer(&report, "ledger.service");
    let acm = consumer(&report, "aws_acm_certificate.shop");
    let listener = consumer(&report, "aws_lb_listener.https");
    assert_eq!(
        refs(&report, &pg)
            .iter()
            .map(|r| r.2.as_str())
            .collect::<Vec<_>>(),
        ["path", "relative", "path"]
    );
    assert_eq!(refs(&report, &redis)[1].2, "missing");
    let want: BTreeSet<(String, String)> = [
        (&vhost, &api_crt),
        (&vhost, &api_key),
        (&vhost, &int_crt),
        (&pg, &shop_crt),
        (&pg, &shop_key),
        (&pg, &root_crt),
        (&redis, &api_crt),
        (&spring, &shop_crt),
        (&spring, &shop_key),
        (&web, &api_crt),
        (&web, &api_key),
        (&unit, &int_crt),
        (&acm, &shop_crt),
        (&acm, &shop_key),
        (&listener, &shop_crt),
        (&listener, &shop_key),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(uses(&report), want);
    let missing: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "config-reference-missing")
        .collect();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0]["path"], "redis/redis.conf");
    assert_eq!(missing[0]["line"], 4);
}

#[test]
fn terraform_listeners_use_certificates_defined_in_other_files_of_their_module() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    pki(&root);
    let tf = root.join("infra");
    std::fs::create_dir_all(&tf).unwrap();
    // certs.tf defines the certificate from the PKI's files and one ACM issues itself;
    // main.tf's listeners name them, and one names a certificate defined nowhere.
    std::fs::write(
        tf.join("certs.tf"),
        "resource \"aws_acm_certificate\" \"api\" {\n  private_key      = file(\"${path.module}/../pki/api.key\")\n  certificate_body = file(\"${path.module}/../pki/api.crt\")\n}\n\nresource \"aws_acm_certificate\" \"www\" {\n  domain_name       = \"www.example.test\"\n  validation_method = \"DNS\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        tf.join("main.tf"),
        "resource \"aws_lb_listener\" \"api\" {\n  port            = 443\n  protocol        = \"HTTPS\"\n  certificate_arn = aws_acm_certificate.api.arn\n}\n\nresource \"aws_lb_listener\" \"www\" {\n  port            = 8443\n  protocol        = \"HTTPS\"\n  certificate_arn = aws_acm_certificate.www.arn\n}\n\nresource \"aws_lb_listener\" \"old\" {\n  port            = 9443\n  protocol        = \"HTTPS\"\n  certificate_arn = aws_acm_certificate.old.arn\n}\n",
    )
    .unwrap();
    let report = scan_json(&root, &[]);
    let api_crt = id_at(&report, "certificate", "pki/api.crt");
    let api_key = id_at(&report, "private-key", "pki/api.key");
    let acm = consumer(&report, "aws_acm_certificate.api");
    let api = consumer(&report, "aws_lb_listener.api");
    let www = consumer(&report, "aws_lb_listener.www");
    let old = consumer(&report, "aws_lb_listener.old");
    assert_eq!(
        refs(&report, &api),
        [t("certificate_arn", "aws_acm_certificate.api", "module")]
    );
    assert_eq!(
        refs(&report, &www),
        [t("certificate_arn", "aws_acm_certificate.www", "dynamic")]
    );
    assert_eq!(
        refs(&report, &old),
        [t("certificate_arn", "aws_acm_certificate.old", "missing")]
    );
    let want: BTreeSet<(String, String)> = [
        (&acm, &api_crt),
        (&acm, &api_key),
        (&api, &api_crt),
        (&api, &api_key),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(uses(&report), want);
    // The one defined nowhere is the finding (`terraform plan` fails), at its line.
    let missing: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "config-reference-missing")
        .collect();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0]["path"], "infra/main.tf");
    assert_eq!(missing[0]["line"], 16);
}
