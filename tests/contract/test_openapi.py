"""The OpenAPI document's error answers follow one rule set (schemathesis checks the rest live).

Every error answer is documented with the error model (`kit.openapi`); an operation that
needs a bearer token documents 401, one that takes input documents 422, one that takes a
body the body guard's 408 and 413; a 204 has no body.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ERROR_MODELS = {"#/components/schemas/ErrorBody", "#/components/schemas/ValidationErrorBody"}


def operations(app: FastAPI) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path, methods in app.openapi()["paths"].items():
        for method, operation in methods.items():
            found.append((f"{method.upper()} {path}", operation))
    return found


def validated_input(operation: dict[str, Any]) -> bool:
    """Parameters, or a body FastAPI parses into a model (raw bodies are read by the route)."""
    content = operation.get("requestBody", {}).get("content", {})
    return bool(operation.get("parameters")) or any(
        "$ref" in spec.get("schema", {}) for spec in content.values()
    )


def test_every_error_answer_uses_the_error_model(app: FastAPI) -> None:
    wrong = []
    for name, operation in operations(app):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")) or "text/html" in response.get("content", {}):
                continue
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref") not in ERROR_MODELS and not (
                name == "GET /health" and status == "503"  # the health report itself
            ):
                wrong.append(f"{name} {status}: {schema or 'no JSON schema'}")
    assert not wrong, "\n".join(wrong)


def test_authenticated_operations_document_401_and_inputs_422(app: FastAPI) -> None:
    missing = []
    for name, operation in operations(app):
        statuses = set(operation["responses"])
        if operation.get("security") and "401" not in statuses:
            missing.append(f"{name}: needs a bearer token but does not document 401")
        if validated_input(operation) and "422" not in statuses:
            missing.append(f"{name}: takes input but does not document 422")
        if "requestBody" in operation and not {"408", "413"} <= statuses:
            missing.append(f"{name}: takes a body but does not document 408 and 413")
        if "204" in statuses and operation["responses"]["204"].get("content"):
            missing.append(f"{name}: a 204 documents a body")
    assert not missing, "\n".join(missing)


def test_the_422_model_admits_field_lists_and_sentences(app: FastAPI) -> None:
    """Request validation answers a list of field errors; a refused upload a sentence."""
    schema = app.openapi()["components"]["schemas"]["ValidationErrorBody"]
    kinds = {
        item.get("type") or item.get("$ref") for item in schema["properties"]["detail"]["anyOf"]
    }
    assert kinds == {"array", "string"}
