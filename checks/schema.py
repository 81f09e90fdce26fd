"""The `schema` check: instructlab-schema's JSON schemas, errors at real positions, plain advice.

The schema files come from the `instructlab-schema` package (the source of truth); this module
only loads them, validates, and rewrites jsonschema's messages into what a contributor should do.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from typing import Any

from instructlab.schema import schema_base, schema_versions
from jsonschema import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012


@functools.cache
def available_versions() -> tuple[int, ...]:
    return tuple(int(v.name[1:]) for v in schema_versions())


def latest_version() -> int:
    return available_versions()[-1]


@functools.cache
def _resource(version: int, name: str) -> Resource:
    target = schema_base().joinpath(f"v{version}", name)
    try:
        contents = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NoSuchResource(ref=str(target)) from exc
    return Resource.from_contents(contents, default_specification=DRAFT202012)


@functools.cache
def schema_for(version: int, schema_name: str) -> Mapping[str, Any]:
    """The raw schema document (`compositional_skills` or `knowledge`) of a version."""
    return _resource(version, f"{schema_name}.json").contents


@functools.cache
def validator(version: int, schema_name: str) -> Validator:
    schema = schema_for(version, schema_name)
    registry: Registry = Registry(retrieve=lambda uri: _resource(version, uri))  # type: ignore[call-arg]
    return validator_for(schema)(schema, registry=registry)


def schema_name_for(top_folder: str | None, data: Mapping[str, Any]) -> str:
    """Upstream's rule: the taxonomy folder names the schema, else the content decides."""
    if top_folder in ("compositional_skills", "knowledge"):
        return top_folder
    return "knowledge" if "document" in data else "compositional_skills"


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null; is the value missing after the colon?)"
    return {
        bool: "true/false", int: "a number", float: "a number", str: "text",
        list: "a list", dict: "a mapping",
    }.get(type(value), type(value).__name__)


def explain(error: ValidationError, version: int, schema_name: str) -> str:
    """jsonschema's message, turned into what the contributor should change."""
    kind = "knowledge" if schema_name == "knowledge" else "skill"
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path) or "."
    v = error.validator
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        if missing == "version":
            return f"'version' is a required property: add `version: {version}` at the top of the file"
        return f"'{missing}' is a required property: add `{missing}:` under `{where}` (see the {kind} template)"
    if v in ("unevaluatedProperties", "additionalProperties"):
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        names = ", ".join(f"`{k}`" for k in extra) or "some keys"
        hint = f"; keys allowed here in a version {version} {kind} file: {', '.join(allowed)}" if allowed else ""
        return f"{names} not allowed under `{where}`{hint}"
    if v == "minItems":
        have = len(error.instance) if isinstance(error.instance, list) else 0
        return f"Value must have at least {error.validator_value} items (has {have}): add more to `{where}`"
    if v == "minLength":
        return f"`{where}` is empty: write a value"
    if v == "type":
        return f"`{where}` must be {error.validator_value}, found {_type_name(error.instance)}"
    if v == "const":
        return f"{error.message}: set `{where.lstrip('.')}: {error.validator_value}`"
    if v == "uniqueItems":
        return f"`{where}` holds the same item twice: each entry must differ"
    return error.message[-200:]


def iter_errors(data: Any, version: int, schema_name: str) -> Iterator[ValidationError]:
    """Schema errors in a stable order (by position in the document)."""
    yield from sorted(
        validator(version, schema_name).iter_errors(data),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
