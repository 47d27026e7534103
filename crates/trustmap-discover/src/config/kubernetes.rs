//! Kubernetes objects that use Secrets: Ingress `spec.tls[].secretName`, Gateway API
//! `certificateRefs`, Istio Gateway `credentialName`, Pods and workload templates
//! (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) mounting a Secret
//! (`volumes[].secret`, projected volumes) or reading it (`env[].valueFrom.secretKeyRef`,
//! `envFrom[].secretRef`, `imagePullSecrets`), cert-manager `Certificate` (`secretName`, with
//! its `issuerRef`, `duration` and `renewBefore` as attributes: who renews the certificate,
//! and when), ServiceAccounts (`secrets[]`, and token Secrets naming their account).
//!
//! Fed the YAML values the manifest pass already parsed (`crate::k8s`), one object at a
//! time (an item of a `List` is an object): nothing is parsed twice. Each reference's value
//! is `namespace/name` (the object's namespace, `default` when unset, unless the reference
//! names another); the engine resolves it against the Secrets of the scan
//! (`trustmap_engine::consumers`). Only fixed paths are read, never a recursive walk, and
//! references per consumer are bounded ([`super::MAX_REFERENCES`]).

use serde_yaml_ng::Value;

use super::{Consumer, Parsed, Ref, add_ref, clean};

/// The workload kinds whose pod template is at `spec.template.spec`.
const TEMPLATED: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
];

/// The consumers of one object (`v`) whose text is `text[range]` (byte offsets of the
/// references are searched there, for their lines).
pub fn consumers(v: &Value, text: &str, range: std::ops::Range<usize>) -> Parsed {
    let mut out = Parsed::default();
    let kind = str_at(v, &["kind"]).unwrap_or("");
    let api = str_at(v, &["apiVersion"]).unwrap_or("");
    let name = str_at(v, &["metadata", "name"]).unwrap_or("");
    let ns = str_at(v, &["metadata", "namespace"])
        .filter(|n| !n.is_empty())
        .unwrap_or("default");
    let mut c = Refs {
        ns,
        text,
        range: range.clone(),
        cursor: range.start,
        refs: Vec::new(),
        errors: Vec::new(),
    };
    let mut attributes = vec![
        ("kind".to_string(), kind.to_string()),
        ("namespace".to_string(), ns.to_string()),
    ];
    let mut label = format!("{kind} {ns}/{name}");
    match kind {
        "Ingress" => {
            let mut hosts = Vec::new();
            for (i, t) in seq_at(v, &["spec", "tls"]).iter().enumerate() {
                if let Some(s) = str_at(t, &["secretName"]) {
                    c.add(&format!("spec.tls[{i}].secretName"), None, s);
                }
                for h in seq_at(t, &["hosts"]) {
                    if let Some(h) = h.as_str()
                        && hosts.len() < 16
                    {
                        hosts.push(h.to_string());
                    }
                }
            }
            if !hosts.is_empty() {
                attributes.push(("hosts".into(), hosts.join(",")));
            }
        }
        "Gateway" if api.starts_with("networking.istio.io") => {
            for (i, s) in seq_at(v, &["spec", "servers"]).iter().enumerate() {
                if let Some(cred) = str_at(s, &["tls", "credentialName"]) {
                    c.add(&format!("spec.servers[{i}].tls.credentialName"), None, cred);
                }
            }
        }
        "Gateway" | "ListenerSet" | "XListenerSet" => {
            for (i, l) in seq_at(v, &["spec", "listeners"]).iter().enumerate() {
                for (j, r) in seq_at(l, &["tls", "certificateRefs"]).iter().enumerate() {
                    // Only Secrets (the default kind, core group) hold material here.
                    let ref_kind = str_at(r, &["kind"]).unwrap_or("Secret");
                    let group = str_at(r, &["group"]).unwrap_or("");
                    if ref_kind != "Secret" || !group.is_empty() {
                        continue;
                    }
                    if let Some(n) = str_at(r, &["name"]) {
                        let other = str_at(r, &["namespace"]);
                        c.add(
                            &format!("spec.listeners[{i}].tls.certificateRefs[{j}]"),
                            other,
                            n,
                        );
                    }
                }
            }
        }
        "Certificate" if api.starts_with("cert-manager.io") => {
            if let Some(s) = str_at(v, &["spec", "secretName"]) {
                c.add("spec.secretName", None, s);
            }
            if let Some(issuer) = str_at(v, &["spec", "issuerRef", "name"]) {
                let ikind = str_at(v, &["spec", "issuerRef", "kind"]).unwrap_or("Issuer");
                attributes.push(("issuer".into(), format!("{ikind}/{issuer}")));
            }
            for (key, attr) in [("renewBefore", "renew_before"), ("duration", "duration")] {
                if let Some(d) = str_at(v, &["spec", key]) {
                    attributes.push((attr.into(), d.to_string()));
                }
            }
            if let Some(cn) = str_at(v, &["spec", "commonName"]) {
                attributes.push(("common_name".into(), cn.to_string()));
            }
        }
        "ServiceAccount" => {
            for (i, s) in seq_at(v, &["secrets"]).iter().enumerate() {
                if let Some(n) = str_at(s, &["name"]) {
                    c.add(&format!("secrets[{i}]"), None, n);
                }
            }
            for (i, s) in seq_at(v, &["imagePullSecrets"]).iter().enumerate() {
                if let Some(n) = str_at(s, &["name"]) {
                    c.add(&format!("imagePullSecrets[{i}]"), None, n);
                }
            }
        }
        // A token Secret names its ServiceAccount: the account uses it.
        "Secret" if str_at(v, &["type"]) == Some("kubernetes.io/service-account-token") => {
            let Some(account) = str_at(
                v,
                &[
                    "metadata",
                    "annotations",
                    "kubernetes.io/service-account.name",
                ],
            ) else {
                return out;
            };
            label = format!("ServiceAccount {ns}/{account}");
            attributes[0].1 = "ServiceAccount".into();
            attributes.push(("token_secret".into(), format!("{ns}/{name}")));
            c.add(
                "metadata.annotations[kubernetes.io/service-account.name]",
                None,
                name,
            );
        }
        "Pod" => pod(v.get("spec"), "spec", &mut c),
        "CronJob" => pod(
            at(v, &["spec", "jobTemplate", "spec", "template", "spec"]),
            "spec.jobTemplate.spec.template.spec",
            &mut c,
        ),
        k if TEMPLATED.contains(&k) => pod(
            at(v, &["spec", "template", "spec"]),
            "spec.template.spec",
            &mut c,
        ),
        _ => return out,
    }
    out.errors.append(&mut c.errors);
    out.push(Consumer {
        software: "kubernetes",
        name: label,
        offset: range.start,
        references: clean(c.refs),
        attributes,
    });
    out.finish()
}

/// A pod spec's Secret volumes, environment and image pull Secrets.
fn pod(spec: Option<&Value>, route: &str, c: &mut Refs<'_>) {
    let Some(spec) = spec else { return };
    for (i, vol) in seq_at(spec, &["volumes"]).iter().enumerate() {
        if let Some(s) = str_at(vol, &["secret", "secretName"]) {
            c.add(&format!("{route}.volumes[{i}].secret"), None, s);
        }
        for (j, src) in seq_at(vol, &["projected", "sources"]).iter().enumerate() {
            if let Some(s) = str_at(src, &["secret", "name"]) {
                c.add(
                    &format!("{route}.volumes[{i}].projected.sources[{j}].secret"),
                    None,
                    s,
                );
            }
        }
    }
    for group in ["initContainers", "containers", "ephemeralContainers"] {
        for (i, ct) in seq_at(spec, &[group]).iter().enumerate() {
            let cname = str_at(ct, &["name"]).unwrap_or("");
            for e in seq_at(ct, &["env"]) {
                if let Some(s) = str_at(e, &["valueFrom", "secretKeyRef", "name"]) {
                    let var = str_at(e, &["name"]).unwrap_or("");
                    c.add(
                        &format!("{route}.{group}[{i}] ({cname}) env {var} secretKeyRef"),
                        None,
                        s,
                    );
                }
            }
            for (k, e) in seq_at(ct, &["envFrom"]).iter().enumerate() {
                if let Some(s) = str_at(e, &["secretRef", "name"]) {
                    c.add(
                        &format!("{route}.{group}[{i}] ({cname}) envFrom[{k}].secretRef"),
                        None,
                        s,
                    );
                }
            }
        }
    }
    for (i, s) in seq_at(spec, &["imagePullSecrets"]).iter().enumerate() {
        if let Some(n) = str_at(s, &["name"]) {
            c.add(&format!("{route}.imagePullSecrets[{i}]"), None, n);
        }
    }
}

/// The references of one object, and where in its text each was written.
struct Refs<'t> {
    ns: &'t str,
    text: &'t str,
    range: std::ops::Range<usize>,
    /// References are found in order: each is searched for after the previous one.
    cursor: usize,
    refs: Vec<Ref>,
    errors: Vec<(usize, String)>,
}

impl Refs<'_> {
    /// A reference to Secret `name` in namespace `ns` (the object's when `None`).
    fn add(&mut self, directive: &str, ns: Option<&str>, name: &str) {
        if name.is_empty() {
            return;
        }
        let ns = ns.filter(|n| !n.is_empty()).unwrap_or(self.ns);
        let offset = self.locate(name);
        add_ref(
            &mut self.refs,
            Ref {
                directive: directive.to_string(),
                value: format!("{ns}/{name}"),
                offset,
            },
            &mut self.errors,
        );
    }

    /// The offset of the first `name` in the object's text after the last reference found,
    /// else the first anywhere in it (the object's start when it is not there as written,
    /// e.g. escaped).
    fn locate(&mut self, name: &str) -> usize {
        let from = self.cursor.clamp(self.range.start, self.range.end);
        // Written in another order than read (a JSON dump's sorted keys): from the start.
        let found = self
            .text
            .get(from..self.range.end)
            .and_then(|t| t.find(name))
            .map(|i| from + i)
            .or_else(|| {
                self.text
                    .get(self.range.clone())
                    .and_then(|t| t.find(name))
                    .map(|i| self.range.start + i)
            });
        match found {
            Some(at) => {
                self.cursor = at + name.len();
                at
            }
            None => self.range.start,
        }
    }
}

fn at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    at(v, path).and_then(Value::as_str)
}

fn seq_at<'v>(v: &'v Value, path: &[&str]) -> &'v [Value] {
    at(v, path)
        .and_then(Value::as_sequence)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(doc: &str) -> Parsed {
        let v: Value = serde_yaml_ng::from_str(doc).unwrap();
        consumers(&v, doc, 0..doc.len())
    }

    fn refs(p: &Parsed) -> Vec<(&str, &str)> {
        p.consumers[0]
            .references
            .iter()
            .map(|r| (r.directive.as_str(), r.value.as_str()))
            .collect()
    }

    #[test]
    fn ingress_names_its_tls_secrets_with_the_objects_namespace() {
        let doc = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  tls:\n    - hosts: [shop.example.com]\n      secretName: shop-tls\n    - secretName: api-tls\n";
        let p = parse(doc);
        assert_eq!(p.consumers[0].name, "Ingress shop/web");
        assert_eq!(
            refs(&p),
            [
                ("spec.tls[0].secretName", "shop/shop-tls"),
                ("spec.tls[1].secretName", "shop/api-tls")
            ]
        );
        assert_eq!(
            p.consumers[0].references[0].offset,
            doc.find("shop-tls").unwrap()
        );
        assert!(
            p.consumers[0]
                .attributes
                .contains(&("hosts".into(), "shop.example.com".into()))
        );
    }

    #[test]
    fn workloads_name_secret_volumes_env_and_pull_secrets_in_default_namespace() {
        let doc = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: backup\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          imagePullSecrets: [{name: regcred}]\n          containers:\n            - name: run\n              env:\n                - name: DB_PASSWORD\n                  valueFrom:\n                    secretKeyRef: {name: db, key: password}\n                - name: PLAIN\n                  value: x\n              envFrom:\n                - secretRef: {name: s3}\n          volumes:\n            - name: tls\n              secret:\n                secretName: backup-tls\n            - name: all\n              projected:\n                sources:\n                  - secret: {name: extra}\n";
        let p = parse(doc);
        assert_eq!(p.consumers[0].name, "CronJob default/backup");
        let r = "spec.jobTemplate.spec.template.spec";
        assert_eq!(
            refs(&p),
            [
                (
                    format!("{r}.volumes[0].secret").as_str(),
                    "default/backup-tls"
                ),
                (
                    format!("{r}.volumes[1].projected.sources[0].secret").as_str(),
                    "default/extra"
                ),
                (
                    format!("{r}.containers[0] (run) env DB_PASSWORD secretKeyRef").as_str(),
                    "default/db"
                ),
                (
                    format!("{r}.containers[0] (run) envFrom[0].secretRef").as_str(),
                    "default/s3"
                ),
                (
                    format!("{r}.imagePullSecrets[0]").as_str(),
                    "default/regcred"
                ),
            ]
        );
    }

    #[test]
    fn gateways_certificates_and_service_accounts() {
        let gw = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: infra}\nspec:\n  listeners:\n    - name: https\n      tls:\n        certificateRefs:\n          - name: wildcard\n          - {name: other, namespace: certs}\n          - {name: cm, kind: ConfigMap}\n";
        assert_eq!(
            refs(&parse(gw)),
            [
                ("spec.listeners[0].tls.certificateRefs[0]", "infra/wildcard"),
                ("spec.listeners[0].tls.certificateRefs[1]", "certs/other")
            ]
        );
        let istio = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: istio-system}\nspec:\n  servers:\n    - port: {number: 443, name: https, protocol: HTTPS}\n      tls: {mode: SIMPLE, credentialName: shop-cred}\n";
        assert_eq!(
            refs(&parse(istio)),
            [(
                "spec.servers[0].tls.credentialName",
                "istio-system/shop-cred"
            )]
        );
        let cert = "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: shop, namespace: shop}\nspec:\n  secretName: shop-tls\n  duration: 2160h\n  renewBefore: 360h\n  issuerRef: {name: letsencrypt, kind: ClusterIssuer}\n";
        let p = parse(cert);
        assert_eq!(refs(&p), [("spec.secretName", "shop/shop-tls")]);
        let attrs = &p.consumers[0].attributes;
        for want in [
            ("issuer", "ClusterIssuer/letsencrypt"),
            ("renew_before", "360h"),
            ("duration", "2160h"),
            ("kind", "Certificate"),
        ] {
            assert!(
                attrs.contains(&(want.0.into(), want.1.into())),
                "{want:?} in {attrs:?}"
            );
        }
        let token = "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/service-account-token\nmetadata:\n  name: builder-token\n  namespace: ci\n  annotations:\n    kubernetes.io/service-account.name: builder\n";
        let p = parse(token);
        assert_eq!(p.consumers[0].name, "ServiceAccount ci/builder");
        assert_eq!(refs(&p)[0].1, "ci/builder-token");
        // A plain Secret, a ConfigMap and a Certificate of another API group use nothing.
        assert!(
            parse("apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n")
                .consumers
                .is_empty()
        );
        assert!(parse("apiVersion: acme.io/v1\nkind: Certificate\nmetadata: {name: x}\nspec: {secretName: y}\n").consumers.is_empty());
    }

    #[test]
    fn references_per_consumer_are_bounded() {
        let mut doc =
            String::from("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes:\n");
        for i in 0..300 {
            doc.push_str(&format!(
                "    - {{name: v{i}, secret: {{secretName: s{i}}}}}\n"
            ));
        }
        let p = parse(&doc);
        assert_eq!(
            p.consumers[0].references.len(),
            super::super::MAX_REFERENCES
        );
        assert_eq!(p.errors.len(), 1);
        assert!(p.errors[0].1.contains("more than 256"), "{:?}", p.errors);
    }
}
