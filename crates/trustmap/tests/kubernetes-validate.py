#!/usr/bin/env python3
"""Checks Kubernetes manifests against the schema of their kind.

Usage: kubernetes-validate.py FILE...  (YAML, multi-document YAML, JSON; a `kind: List` is
checked item by item). Uses the schemas bundled by the PyPI package kubernetes-validate, in
strict mode (a field the schema does not know is an error), and custom resources with the
CRD schemas vendored in `crd-schemas/` (cert-manager's Certificate, Gateway API's Gateway and
HTTPRoute), made strict the same way. Prints one line per object: `ok APIVERSION KIND NAME`
or `unchecked APIVERSION KIND NAME` (no schema for it, bundled or vendored). Exits 1 if any object is invalid or a
file does not parse, 2 if kubernetes-validate is not installed (scripts/test installs it).
"""
import json
import os
import sys

try:
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError
    import yaml
    import jsonschema
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


CRDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crd-schemas")


def strict(schema):
    """A CRD schema as `kubectl apply --validate=strict` applies it: an object's fields are
    the declared ones (unless it preserves unknown fields or declares additionalProperties)."""
    if isinstance(schema, dict):
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        for v in schema.values():
            strict(v)
    elif isinstance(schema, list):
        for v in schema:
            strict(v)
    return schema


def custom_resource_schema(obj):
    """The vendored schema of a custom resource, or None."""
    api = str(obj.get("apiVersion", ""))
    if "/" not in api:
        return None
    group, version = api.split("/", 1)
    path = os.path.join(CRDS, f"{group}_{version}_{obj.get('kind')}.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        schema = strict(json.load(f))
    # The API server checks metadata itself; the CRD schema only says it is an object.
    schema.setdefault("properties", {})["metadata"] = {"type": "object"}
    return schema


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
                schema = custom_resource_schema(obj)
                if schema is None:
                    print(f"unchecked {what}")
                    continue
                errors = sorted(
                    jsonschema.Draft7Validator(schema).iter_errors(obj), key=lambda e: list(e.path)
                )
                for e in errors[:5]:
                    where = "/".join(str(p) for p in e.absolute_path)
                    print(f"invalid {what} in {path}: at {where}: {e.message}", file=sys.stderr)
                    failed = True
                if not errors:
                    print(f"ok {what}")
            except Exception as e:  # a validation error: which object, where, and why
                where = "/".join(str(p) for p in getattr(e, "absolute_path", []))
                why = getattr(e, "message", None) or str(e)
                print(f"invalid {what} in {path}: at {where}: {why}", file=sys.stderr)
                failed = True
    sys.exit(1 if failed else 0)


main()
