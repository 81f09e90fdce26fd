"""The `schema` check: instructlab-schema's JSON schemas, errors at real positions, plain advice.

The schema files come from the `instructlab-schema` package (the source of truth); this module
only loads them, validates, and rewrites jsonschema's messages into what a contributor should do.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import json
from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import Any

from instructlab.schema import schema_base, schema_versions
from jsonschema import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend, validator_for
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


def excerpt(value: Any, limit: int = 60) -> str:
    """A short description of a value for a message: never the whole of a large instance."""
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[: limit - 3] + "...")
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' * (len(value) != 1)}"
    if isinstance(value, dict):
        return f"a mapping of {len(value)} key{'s' * (len(value) != 1)}"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _frozen(value: Any) -> Hashable:
    """A hashable form with JSON equality (1 == 1.0, true != 1), so uniqueness is one pass."""
    if isinstance(value, dict):
        return ("map", frozenset((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(_frozen(v) for v in value))
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    try:
        hash(value)
    except TypeError:
        return ("other", repr(value))
    return ("other", value)


def _unique_items(validator: Validator, unique: bool, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """`uniqueItems` in linear time (jsonschema compares every pair) with the repeated index."""
    if not unique or not validator.is_type(instance, "array"):
        return
    first: dict[Hashable, int] = {}
    for i, item in enumerate(instance):
        earlier = first.setdefault(_frozen(item), i)
        if earlier != i:
            yield ValidationError(f"repeats item {earlier}", path=[i])
            return


def _type(validator: Validator, types: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    types = [types] if isinstance(types, str) else types
    if not any(validator.is_type(instance, t) for t in types):
        yield ValidationError(f"{excerpt(instance)} is not of type {', '.join(map(repr, types))}")


def _min_items(validator: Validator, count: int, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "array") and len(instance) < count:
        yield ValidationError(f"has {len(instance)} items, fewer than {count}")


def _min_length(validator: Validator, count: int, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and len(instance) < count:
        yield ValidationError(f"has {len(instance)} characters, fewer than {count}")


# jsonschema writes the whole instance into these keywords' messages (gigabytes for an aliased
# file, and quadratic for uniqueItems); ours say the same from counts and short excerpts.
BOUNDED_KEYWORDS = {"type": _type, "minItems": _min_items, "minLength": _min_length, "uniqueItems": _unique_items}


@functools.cache
def validator(version: int, schema_name: str) -> Validator:
    schema = schema_for(version, schema_name)
    registry: Registry = Registry(retrieve=lambda uri: _resource(version, uri))  # type: ignore[call-arg]
    cls = extend(validator_for(schema), validators=BOUNDED_KEYWORDS)
    return cls(schema, registry=registry)


def allowed_keys(schema: Mapping[str, Any], version: int) -> list[str]:
    """The keys a mapping may hold under `schema`, those of the schemas it `$ref`s included."""
    keys = list(schema.get("properties", {}))
    ref = schema.get("$ref")
    if isinstance(ref, str) and not ref.startswith("#"):
        with contextlib.suppress(NoSuchResource):
            keys += allowed_keys(_resource(version, ref.removeprefix("./")).contents, version)
    return sorted(set(keys))


def unexpected_keys(error: ValidationError, version: int) -> list[str]:
    """The keys an `unevaluatedProperties` / `additionalProperties` error is about, in file order."""
    if not isinstance(error.instance, dict):
        return []
    allowed = set(allowed_keys(error.schema, version))
    return [str(k) for k in error.instance if k not in allowed]


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


def yaml_path(path: Sequence[Any]) -> str:
    """`.seed_examples[2].answer`; the top level is `.`."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path) or "."


def placed(where: str) -> str:
    """`under `.seed_examples[0]``, or `at the top level of the file` (never "under `.`")."""
    return "at the top level of the file" if where == "." else f"under `{where}`"


def missing_key(error: ValidationError) -> str:
    """The property a `required` error says is missing."""
    return error.message.split("'")[1] if "'" in error.message else error.message


def explain(error: ValidationError, version: int, schema_name: str) -> str:
    """jsonschema's message, turned into what the contributor should change."""
    kind = "knowledge" if schema_name == "knowledge" else "skill"
    where = yaml_path(error.absolute_path)
    v = error.validator
    if v == "required":
        missing = missing_key(error)
        if missing == "version":
            return f"'version' is a required property: add `version: {version}` at the top of the file"
        return f"'{missing}' is a required property: add `{missing}:` {placed(where)} (see the {kind} template)"
    if v in ("unevaluatedProperties", "additionalProperties"):
        return _explain_keys(error, version, kind, where)
    if v == "minItems":
        have = len(error.instance) if isinstance(error.instance, list) else 0
        need = error.validator_value
        return (f"Value must have at least {need} items (has {have}): add {need - have} more "
                f"to `{where}`")
    if v == "minLength":
        return f"`{where}` is empty: write a value"
    if v == "type":
        return f"`{where}` must be {error.validator_value}, found {_type_name(error.instance)}"
    if v == "const":
        return f"{error.message}: set `{where.lstrip('.')}: {error.validator_value}`"
    if v == "uniqueItems":
        earlier = error.message.rsplit(" ", 1)[-1]
        parent = where.rsplit("[", 1)[0] if error.absolute_path else where
        return f"`{where}` repeats `{parent}[{earlier}]`: each entry must differ"
    return error.message[-200:]


# Unknown keys named in one message, so a file with thousands of them gets a readable line.
MAX_KEYS_NAMED = 5


def _explain_keys(error: ValidationError, version: int, kind: str, where: str) -> str:
    """Unknown keys: each with the allowed key it was probably meant to be, then what is allowed."""
    allowed = allowed_keys(error.schema, version)
    extra = unexpected_keys(error, version)
    named = []
    for key in extra[:MAX_KEYS_NAMED]:
        close = meant_key(key, allowed)
        named.append(f"`{excerpt(key, 40)[1:-1]}`" + (f" (did you mean `{close}`?)" if close else ""))
    if len(extra) > MAX_KEYS_NAMED:
        named.append(f"and {len(extra) - MAX_KEYS_NAMED:,} more")
    names = ", ".join(named) or "some keys"
    hint = f"; keys allowed here in a version {version} {kind} file: {', '.join(allowed)}" if allowed else ""
    return f"{names} not allowed {placed(where)}{hint}"


def meant_key(key: str, allowed: Sequence[str]) -> str | None:
    """The allowed key a misspelled one was probably meant to be (`anwser` -> `answer`)."""
    close = difflib.get_close_matches(key[:100], list(allowed), n=1, cutoff=0.75)
    return close[0] if close else None


def misspellings(error: ValidationError, version: int) -> dict[str, str]:
    """For an unknown-key error: each unknown key -> the allowed key it was probably meant to be."""
    if error.validator not in ("unevaluatedProperties", "additionalProperties"):
        return {}
    allowed = allowed_keys(error.schema, version)
    return {key: meant for key in unexpected_keys(error, version) if (meant := meant_key(key, allowed))}


def iter_errors(data: Any, version: int, schema_name: str) -> Iterator[ValidationError]:
    """Schema errors in a stable order (by position in the document)."""
    yield from sorted(
        validator(version, schema_name).iter_errors(data),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
