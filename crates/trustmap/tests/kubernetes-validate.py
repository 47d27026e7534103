#!/usr/bin/env python3
"""Checks Kubernetes manifests against the schema of their kind.

Usage: kubernetes-validate.py FILE...  (YAML, multi-document YAML, JSON; a `kind: List` is
checked item by item). Uses the schemas bundled by the PyPI package kubernetes-validate, in
strict mode (a field the schema does not know is an error). Prints one line per object:
`ok APIVERSION KIND NAME` or `unchecked APIVERSION KIND NAME` (no schema bundled for it: a
custom resource such as cert-manager's Certificate). Exits 1 if any object is invalid or a
file does not parse, 2 if kubernetes-validate is not installed (scripts/test installs it).
"""
import json
import sys

try:
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError
    import yaml
except ImportError as e:
    print(f"kubernetes-validate is not installed ({e}): run scripts/test", file=sys.stderr)
    sys.exit(2)


def objects(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    docs = [json.loads(text)] if path.endswith(".json") else list(yaml.safe_load_all(text))
    for d in docs:
        if d is None:
            continue
        if d.get("kind") == "List":
            yield from d.get("items", [])
        else:
            yield d


def main():
    version = kubernetes_validate.latest_version()
    failed = False
    for path in sys.argv[1:]:
        for obj in objects(path):
            what = f"{obj.get('apiVersion')} {obj.get('kind')} {obj.get('metadata', {}).get('name')}"
            try:
                kubernetes_validate.validate(obj, version, strict=True)
                print(f"ok {what}")
            except SchemaNotFoundError:
                print(f"unchecked {what}")
            except Exception as e:  # a validation error: which object, where, and why
                where = "/".join(str(p) for p in getattr(e, "absolute_path", []))
                why = getattr(e, "message", None) or str(e)
                print(f"invalid {what} in {path}: at {where}: {why}", file=sys.stderr)
                failed = True
    sys.exit(1 if failed else 0)


main()
