//! Terraform (`*.tf`): each `resource` block that loads key material from a file
//! (`file("...")`, `filebase64("...")`, `templatefile`, with `${path.module}/` dropped), as
//! an `aws_acm_certificate`'s `certificate_body` or a `kubernetes_secret`'s `data` does; and
//! the `aws_lb_listener`s (and `aws_lb_listener_certificate`s) whose `certificate_arn` names
//! an `aws_acm_certificate`, which use that certificate's files. Terraform reads every `.tf`
//! file of a directory as one module: a certificate of the same file is followed here; one
//! defined in another file is left as a reference to its address (directive
//! `certificate_arn`, value `aws_acm_certificate.NAME`) that the engine resolves against the
//! Terraform consumers of the same directory (`trustmap_engine::consumers`). An
//! `aws_acm_certificate` loading no file (issued by ACM) is a consumer too, with one
//! reference of no value (`dynamic`), so that a listener in another file finds it.
//!
//! Hand-written and line based (no maintained Rust HCL parser reads expressions and
//! heredocs alike without evaluating them): blocks by brace depth outside strings and
//! heredocs, at most [`MAX_DEPTH`] deep, references per consumer bounded.

use super::{Consumer, MAX_DEPTH, Parsed, Ref, add_ref, clean};

/// One `resource "TYPE" "NAME"` block: its file references and `certificate_arn`.
struct Block {
    address: String,
    offset: usize,
    refs: Vec<Ref>,
    /// (offset, `aws_acm_certificate.NAME`) of a `certificate_arn` naming one.
    arn: Option<(usize, String)>,
}

pub(super) fn looks_like(name: &str, text: &str) -> bool {
    name.ends_with(".tf") && text.contains("resource")
}

pub(super) fn parse(text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut blocks: Vec<Block> = Vec::new();
    let mut current: Option<Block> = None;
    let mut depth = 0usize;
    let mut heredoc: Option<String> = None;
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let at = offset;
        offset += raw.len();
        let line = raw.trim();
        if let Some(end) = &heredoc {
            if line == end {
                heredoc = None;
            }
            continue;
        }
        if line.starts_with('#') || line.starts_with("//") {
            continue;
        }
        if depth == 0
            && let Some(rest) = line.strip_prefix("resource ")
        {
            let mut names = rest.split('"').skip(1).step_by(2);
            if let (Some(t), Some(n)) = (names.next(), names.next()) {
                current = Some(Block {
                    address: format!("{t}.{n}"),
                    offset: at,
                    refs: Vec::new(),
                    arn: None,
                });
            }
        }
        if let Some(b) = &mut current {
            for (i, path) in file_calls(line) {
                add_ref(
                    &mut b.refs,
                    Ref {
                        directive: format!(
                            "{}({path})",
                            &line[i..].split('(').next().unwrap_or("file")
                        ),
                        value: path,
                        offset: at,
                    },
                    &mut out.errors,
                );
            }
            if let Some((k, v)) = line.split_once('=')
                && k.trim() == "certificate_arn"
                && let Some(acm) = v.trim().strip_prefix("aws_acm_certificate.")
            {
                let name = acm.split('.').next().unwrap_or("");
                b.arn = Some((at, format!("aws_acm_certificate.{name}")));
            }
        }
        let (opens, closes, here) = braces(line);
        if let Some(tag) = here {
            heredoc = Some(tag);
        }
        depth += opens;
        if depth > MAX_DEPTH {
            out.errors.push((
                at,
                format!("Terraform: blocks nested more than {MAX_DEPTH} deep"),
            ));
            return out;
        }
        depth = depth.saturating_sub(closes);
        if depth == 0
            && let Some(b) = current.take()
        {
            blocks.push(b);
        }
    }
    if current.is_some() || depth > 0 {
        out.errors
            .push((offset, "Terraform: a block is not closed".into()));
        return out;
    }
    // A listener naming a certificate of this file uses that certificate's files; one of
    // another file of the module, its address.
    for i in 0..blocks.len() {
        let Some((at, acm)) = blocks[i].arn.clone() else {
            continue;
        };
        let Some(files) = blocks
            .iter()
            .find(|b| b.address == acm)
            .map(|b| b.refs.clone())
        else {
            add_ref(
                &mut blocks[i].refs,
                Ref {
                    directive: "certificate_arn".into(),
                    value: acm,
                    offset: at,
                },
                &mut out.errors,
            );
            continue;
        };
        for f in files {
            add_ref(
                &mut blocks[i].refs,
                Ref {
                    directive: format!("certificate_arn -> {acm} {}", f.directive),
                    value: f.value,
                    offset: at,
                },
                &mut out.errors,
            );
        }
    }
    for mut b in blocks {
        if b.refs.is_empty() && b.address.starts_with("aws_acm_certificate.") {
            b.refs.push(Ref {
                directive: "issued by ACM (no file)".into(),
                value: String::new(),
                offset: b.offset,
            });
        }
        out.push(Consumer {
            software: "terraform",
            name: b.address,
            offset: b.offset,
            references: clean(b.refs),
            attributes: Vec::new(),
        });
    }
    out.finish()
}

/// `file("x")`, `filebase64("x")`: (offset in `line` of the function, path without
/// `${path.module}/`, `${path.root}/` or `./`).
fn file_calls(line: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for f in ["file(\"", "filebase64(\""] {
        let mut from = 0;
        while let Some(i) = line[from..].find(f) {
            let start = from + i;
            // `templatefile(` and `pathfile(` are not `file(`.
            let word_start = line[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_');
            let body = &line[start + f.len()..];
            let Some(end) = body.find('"') else { break };
            let path = body[..end]
                .trim_start_matches("${path.module}/")
                .trim_start_matches("${path.root}/")
                .to_string();
            if word_start && !path.is_empty() {
                out.push((start, path));
            }
            from = start + f.len() + end;
        }
    }
    out.sort();
    out
}

/// Braces opened and closed on a line outside strings, and the tag of a heredoc it starts.
fn braces(line: &str) -> (usize, usize, Option<String>) {
    let (mut opens, mut closes) = (0, 0);
    let mut in_string = false;
    let mut prev = '\0';
    for c in line.chars() {
        match c {
            '"' if prev != '\\' => in_string = !in_string,
            '{' if !in_string => opens += 1,
            '}' if !in_string => closes += 1,
            _ => {}
        }
        prev = c;
    }
    let here = line
        .find("<<")
        .map(|i| line[i + 2..].trim_start_matches('-').trim().to_string());
    (
        opens,
        closes,
        here.filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TF: &str = r#"resource "aws_acm_certificate" "api" {
  private_key      = file("${path.module}/certs/api.key")
  certificate_body = file("certs/api.crt")
  tags = { Name = "api" }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  certificate_arn   = aws_acm_certificate.api.arn
  default_action {
    type = "forward"
  }
}

resource "kubernetes_secret" "tls" {
  metadata {
    name      = "api-tls"
    namespace = "api"
  }
  data = {
    "tls.crt" = filebase64("certs/api.crt")
    "ca.crt"  = <<-EOT
      } not a brace {
    EOT
  }
  type = "kubernetes.io/tls"
}

resource "aws_instance" "web" {
  user_data = templatefile("init.sh", {})
}
"#;

    #[test]
    fn resources_loading_files_and_listeners_using_certificates() {
        let p = parse(TF);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let got: Vec<(&str, Vec<(&str, &str)>)> = p
            .consumers
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.references
                        .iter()
                        .map(|r| (r.directive.as_str(), r.value.as_str()))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "aws_acm_certificate.api",
                    vec![
                        ("file(certs/api.key)", "certs/api.key"),
                        ("file(certs/api.crt)", "certs/api.crt")
                    ]
                ),
                (
                    "aws_lb_listener.https",
                    vec![
                        (
                            "certificate_arn -> aws_acm_certificate.api file(certs/api.key)",
                            "certs/api.key"
                        ),
                        (
                            "certificate_arn -> aws_acm_certificate.api file(certs/api.crt)",
                            "certs/api.crt"
                        )
                    ]
                ),
                (
                    "kubernetes_secret.tls",
                    vec![("filebase64(certs/api.crt)", "certs/api.crt")]
                ),
            ]
        );
    }

    #[test]
    fn a_certificate_of_another_file_is_left_as_its_address_and_an_acm_issued_one_is_dynamic() {
        let main = "resource \"aws_lb_listener\" \"https\" {\n  certificate_arn = aws_acm_certificate.api.arn\n}\n";
        let p = parse(main);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let r = &p.consumers[0].references;
        assert_eq!(
            r.iter()
                .map(|r| (r.directive.as_str(), r.value.as_str()))
                .collect::<Vec<_>>(),
            [("certificate_arn", "aws_acm_certificate.api")]
        );
        let certs = "resource \"aws_acm_certificate\" \"api\" {\n  domain_name = \"api.example.test\"\n  validation_method = \"DNS\"\n}\n";
        let p = parse(certs);
        assert_eq!(p.consumers.len(), 1);
        assert_eq!(p.consumers[0].name, "aws_acm_certificate.api");
        assert_eq!(p.consumers[0].references[0].value, "");
        // Found by the prefilter (no `file(` in it).
        assert_eq!(
            super::super::consumers("certs.tf", certs.as_bytes())
                .consumers
                .len(),
            1
        );
    }

    #[test]
    fn broken_and_deep_blocks_are_errors() {
        let p = parse("resource \"a\" \"b\" {\n  x = file(\"k.pem\")\n");
        assert!(p.consumers.is_empty());
        assert!(p.errors[0].1.contains("not closed"), "{:?}", p.errors);
        let deep = format!("resource \"a\" \"b\" {}\n", "{".repeat(100));
        assert!(parse(&deep).errors[0].1.contains("nested more than 64"));
        let mut many = String::from("resource \"a\" \"b\" {\n");
        for i in 0..300 {
            many.push_str(&format!("  k{i} = file(\"k{i}.pem\")\n"));
        }
        many.push_str("}\n");
        let p = parse(&many);
        assert_eq!(
            p.consumers[0].references.len(),
            super::super::MAX_REFERENCES
        );
        assert!(p.errors[0].1.contains("more than 256"));
    }
}
