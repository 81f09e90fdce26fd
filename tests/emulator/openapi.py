"""Check requests and responses against GitHub's REST OpenAPI description.

The description is 13 MB: it is parsed once per process and every operation's pieces (the path
regex, its parameters, where its body and response schemas live) are resolved lazily and cached.
Schemas are validated in place through a `referencing` registry holding the whole document, so
`$ref`s resolve exactly as GitHub wrote them and nothing is copied or rewritten.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import _keywords as jsonschema_keywords
from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

DOCUMENT_URI = "urn:github:rest-openapi"
# Their schemas want {"labels": [...]}, but their text (and GitHub, and PyGithub) also take a bare array.
_BARE_LABEL_ARRAYS = frozenset({"issues/add-labels", "issues/set-labels"})
_MAX_ERRORS = 10  # per schema check: enough to see the cause, short enough to read
# A `{path}` parameter (contents API) spans slashes; every other parameter is one segment.
_MULTI_SEGMENT_PARAMS = frozenset({"path"})


def _nullable_enum(validator: Any, enums: Any, instance: Any, schema: dict[str, Any]) -> Any:
    """OAS 3.0 `nullable: true` admits null even when an `enum` does not list it (GitHub relies on this)."""
    if instance is None and schema.get("nullable") is True:
        return
    yield from jsonschema_keywords.enum(validator, enums, instance, schema)


def _one_of(validator: Any, one_of: Any, instance: Any, schema: dict[str, Any]) -> Any:
    """A discriminator only selects among objects; GitHub maps one to an array (the contents API's listing)."""
    if "discriminator" in schema and not validator.is_type(instance, "object"):
        yield from jsonschema_keywords.oneOf(validator, one_of, instance, schema)
        return
    yield from OAS30Validator.VALIDATORS["oneOf"](validator, one_of, instance, schema)


# openapi-schema-validator's OAS 3.0 validator, with the two readings above.
GitHubOAS30Validator = extend(OAS30Validator, {"enum": _nullable_enum, "oneOf": _one_of})


def _escape_pointer(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Parameter:
    """One declared path or query parameter, with the JSON pointer of its schema."""

    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    schema_pointer: str


@dataclass(frozen=True)
class Operation:
    """One method on one path template of the description."""

    method: str
    template: str
    operation_id: str
    pointer: str
    parameters: tuple[Parameter, ...]
    body_required: bool
    body_pointer: str | None
    responses: dict[str, str | None]  # status -> pointer of the JSON schema (None: no body)


class OpenAPI:
    """GitHub's REST description: find the operation of a request, validate bodies and parameters."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT4)
        self._registry = Registry().with_resource(DOCUMENT_URI, resource)
        self._templates = [(self._template_regex(template), template) for template in document["paths"]]

    @staticmethod
    def _template_regex(template: str) -> re.Pattern[str]:
        parts = re.split(r"(\{[^}]+\})", template)
        pattern = ""
        for part in parts:
            if part.startswith("{") and part.endswith("}"):
                name = part[1:-1]
                body = ".+" if name in _MULTI_SEGMENT_PARAMS else "[^/]+"
                pattern += f"(?P<{re.sub(r'[^A-Za-z0-9_]', '_', name)}>{body})"
            else:
                pattern += re.escape(part)
        return re.compile(f"^{pattern}$")

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation for METHOD PATH and its raw path parameters; literal segments win over parameters."""
        best: tuple[int, str, dict[str, str]] | None = None
        for regex, template in self._templates:
            found = regex.match(path)
            if found is None or method.lower() not in self.document["paths"][template]:
                continue
            literal = len(re.sub(r"\{[^}]+\}", "", template))
            if best is None or literal > best[0]:
                best = (literal, template, found.groupdict())
        if best is None:
            return None
        operation = self.operation(method.lower(), best[1])
        names = {re.sub(r"[^A-Za-z0-9_]", "_", p.name): p.name for p in operation.parameters}
        return operation, {names.get(key, key): value for key, value in best[2].items()}

    @cache  # noqa: B019 - one OpenAPI per process, kept for its lifetime
    def operation(self, method: str, template: str) -> Operation:
        """The resolved pieces of one operation."""
        item = self.document["paths"][template]
        raw = item[method]
        pointer = f"#/paths/{_escape_pointer(template)}/{method}"
        parameters = []
        for index, declared in enumerate([*item.get("parameters", ()), *raw.get("parameters", ())]):
            where = f"{pointer}/parameters/{index}"
            if "$ref" in declared:
                where = declared["$ref"]
                declared = self.resolve(where)
            if declared["in"] not in ("path", "query"):
                continue
            parameters.append(
                Parameter(declared["name"], declared["in"], bool(declared.get("required")),
                          declared.get("schema", {}), f"{where}/schema")
            )
        body = raw.get("requestBody")
        body_pointer = None
        if body and "application/json" in body.get("content", {}):
            body_pointer = f"{pointer}/requestBody/content/application~1json/schema"
        responses: dict[str, str | None] = {}
        for status, response in raw.get("responses", {}).items():
            where = f"{pointer}/responses/{status}"
            if "$ref" in response:
                where = response["$ref"]
                response = self.resolve(where)
            has_json = "application/json" in response.get("content", {})
            responses[status] = f"{where}/content/application~1json/schema" if has_json else None
        return Operation(method, template, raw.get("operationId", f"{method} {template}"), pointer,
                         tuple(parameters), bool(body and body.get("required")), body_pointer, responses)

    def resolve(self, pointer: str) -> Any:
        """The value at a local JSON pointer such as `#/components/parameters/owner`."""
        node: Any = self.document
        for segment in pointer.lstrip("#/").split("/"):
            node = node[segment.replace("~1", "/").replace("~0", "~")]
        return node

    @cache  # noqa: B019 - see operation()
    def _validator(self, pointer: str) -> Any:
        return GitHubOAS30Validator({"$ref": f"{DOCUMENT_URI}{pointer}"}, registry=self._registry,
                              format_checker=oas30_format_checker)

    def errors(self, pointer: str, instance: Any) -> list[str]:
        """Every way INSTANCE breaks the schema at POINTER, as short readable lines."""
        found = self._validator(pointer).iter_errors(instance)
        return [_describe(error) for _, error in zip(range(_MAX_ERRORS), found, strict=False)]

    def request_errors(self, operation: Operation, path_params: dict[str, str],
                       query: list[tuple[str, str]], body: Any, has_body: bool) -> list[str]:
        """What is wrong with a request for OPERATION: parameters, then the JSON body."""
        problems = []
        declared = {(p.location, p.name): p for p in operation.parameters}
        given_query: dict[str, list[str]] = {}
        for name, value in query:
            given_query.setdefault(name, []).append(value)
        for name in given_query:
            if ("query", name) not in declared:
                problems.append(f"query parameter {name!r} is not declared")
        for parameter in operation.parameters:
            values = path_params if parameter.location == "path" else given_query
            if parameter.name not in values:
                if parameter.required:
                    problems.append(f"{parameter.location} parameter {parameter.name!r} is required")
                continue
            raw = values[parameter.name]
            value, problem = _coerce(parameter.schema, raw if isinstance(raw, list) else [raw])
            if problem:
                problems.append(f"{parameter.location} parameter {parameter.name!r}: {problem}")
                continue
            problems += [f"{parameter.location} parameter {parameter.name!r}: {e}"
                         for e in self.errors(parameter.schema_pointer, value)]
        if operation.body_pointer is None:
            return problems
        if not has_body:
            if operation.body_required:
                problems.append("a JSON request body is required")
            return problems
        if operation.operation_id in _BARE_LABEL_ARRAYS and isinstance(body, list):
            body = {"labels": body}
        problems += [f"body: {e}" for e in self.errors(operation.body_pointer, body)]
        return problems

    def response_errors(self, operation: Operation, status: int, body: Any, has_body: bool) -> list[str]:
        """What is wrong with a response: an undocumented success status, or a body off its schema.

        GitHub documents only some error statuses per operation, yet answers 401, 403, 404, 422, 429
        and 5xx anywhere; an undocumented error status is checked against `basic-error`.
        """
        key = str(status)
        if key not in operation.responses:
            if status < 400:
                return [f"status {status} is not documented for {operation.operation_id}"]
            return [f"body: {e}" for e in self.errors("#/components/schemas/basic-error", body)] if has_body else []
        pointer = operation.responses[key]
        if pointer is None:
            return [f"status {status} takes no body"] if has_body and status != 404 else []
        if not has_body:
            return [f"status {status} needs a JSON body"]
        return [f"body: {e}" for e in self.errors(pointer, body)]


def _coerce(schema: dict[str, Any], raw: list[str]) -> tuple[Any, str | None]:
    """A query or path string turned into the type its schema declares (None, problem) when it cannot be."""
    kind = schema.get("type")
    if kind == "array":
        items = [part for value in raw for part in value.split(",")]
        converted = [_coerce(schema.get("items", {}), [item]) for item in items]
        bad = [problem for _, problem in converted if problem]
        return ([value for value, _ in converted], bad[0] if bad else None)
    value = raw[-1]
    try:
        if kind == "integer":
            return int(value), None
        if kind == "number":
            return float(value), None
    except ValueError:
        return None, f"{value!r} is not a {kind}"
    if kind == "boolean":
        if value not in ("true", "false"):
            return None, f"{value!r} is not true or false"
        return value == "true", None
    return value, None


def _describe(error: ValidationError) -> str:
    """Where and how, short: a long value is named by the rule it breaks rather than printed."""
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path) or "(root)"
    message = error.message
    if len(message) > 200:
        rule = json.dumps(error.validator_value, default=str)[:80]
        size = f" ({len(error.instance)} items)" if isinstance(error.instance, list | dict) else ""
        message = f"value{size} breaks `{error.validator}: {rule}`"
    return f"{where}: {message}"


@cache
def load(path: str) -> OpenAPI | None:
    """The description at PATH, parsed once per process; None when the file is absent."""
    file = Path(path)
    if not file.is_file():
        return None
    with file.open("rb") as handle:
        return OpenAPI(json.load(handle))
