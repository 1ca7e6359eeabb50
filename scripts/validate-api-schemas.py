"""Validates schemas/ with independent tools: the OpenAPI document as OpenAPI 3.1
(openapi-spec-validator), every JSON Schema against the 2020-12 metaschema (jsonschema).

Usage: python3 scripts/validate-api-schemas.py [SCHEMAS_DIR]   (default: schemas)
"""

import json
import pathlib
import sys

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")
    failures = 0
    files = sorted(p for p in root.rglob("*.json") if p.name != "openapi.json")
    for path in files:
        try:
            Draft202012Validator.check_schema(json.loads(path.read_text()))
        except (SchemaError, ValueError) as error:
            print(f"{path}: not a valid JSON Schema 2020-12: {error}")
            failures += 1
    openapi = root / "openapi.json"
    try:
        validate(json.loads(openapi.read_text()))
    except OpenAPIValidationError as error:
        print(f"{openapi}: not a valid OpenAPI 3.1 document: {error}")
        failures += 1
    except Exception as error:  # the validator raises, rather than reports, a dangling $ref
        print(f"{openapi}: not a valid OpenAPI 3.1 document: {type(error).__name__}: {str(error)[:300]}")
        failures += 1
    print(f"{len(files)} JSON Schemas and {openapi} checked, {failures} invalid")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
