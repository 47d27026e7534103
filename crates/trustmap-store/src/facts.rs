//! What is stored of an asset besides its identity: the facts (the kind-specific sections of
//! the JSON contract, as JSON text) and the facts that are also indexed columns.

use serde::Serialize;

/// Facts that are columns (and indexed) as well as inside the `facts` JSON.
pub(crate) struct QueryColumns {
    pub not_after: Option<String>,
    pub issuer: Option<String>,
    pub algorithm: Option<String>,
}

impl QueryColumns {
    pub fn of(a: &trustmap_core::Asset) -> QueryColumns {
        let cert = a.certificate.as_ref();
        QueryColumns {
            not_after: cert.map(|c| c.not_after.to_string()),
            issuer: cert.map(|c| c.issuer.clone()),
            algorithm: cert
                .map(|c| c.public_key.algorithm.clone())
                .or_else(|| a.key.as_ref().map(|k| k.algorithm.clone())),
        }
    }

    pub fn from_facts(facts: &serde_json::Value) -> QueryColumns {
        let s = |v: &serde_json::Value| v.as_str().map(str::to_string);
        let cert = &facts["certificate"];
        QueryColumns {
            not_after: s(&cert["not_after"]),
            issuer: s(&cert["issuer"]),
            algorithm: s(&cert["public_key"]["algorithm"])
                .or_else(|| s(&facts["key"]["algorithm"])),
        }
    }
}

/// The facts kept for an asset: its kind-specific sections of the JSON contract.
#[derive(Serialize)]
struct Facts<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate: Option<&'a trustmap_core::CertificateInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a trustmap_core::KeyInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keystore: Option<&'a trustmap_core::KeystoreInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a trustmap_core::SecretInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumer: Option<&'a trustmap_core::ConsumerInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<&'a trustmap_core::EndpointInfo>,
}

/// The facts of `a` as stored JSON text (serialized once, straight from the model).
pub(crate) fn facts_text(a: &trustmap_core::Asset) -> String {
    serde_json::to_string(&Facts {
        certificate: a.certificate.as_ref(),
        key: a.key.as_ref(),
        keystore: a.keystore.as_ref(),
        secret: a.secret.as_ref(),
        consumer: a.consumer.as_ref(),
        endpoint: a.endpoint.as_ref(),
    })
    .unwrap_or_else(|_| "{}".into())
}
