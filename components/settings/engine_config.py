"""The Pulumi engine's reading of a stack file, for ``make check``: YAML, keys, values, checks.

Everything here follows the Go source of the CLI the tests build (pulumi/pulumi 3.274.0; the
project pins the SDK at 3.272.0, docs/decisions.md, "make check merges as the engine does"):

- YAML is read as ``gopkg.in/yaml.v3`` reads it (``resolve.go``, ``decode.go``): a plain scalar
  is null (empty, ``~``, ``null``), a boolean (``true``/``True``/``TRUE`` and the same for false,
  nothing else), an integer as Go's ``strconv.ParseInt(s, 0, 64)`` reads it after dropping
  underscores (``0o1604``, ``0x1F``, ``0b101`` and the YAML 1.1 octal ``0777``), a float, a
  timestamp (a ``time.Time``), or a string. The engine reads the stack file into Go values, writes
  it back as YAML and reads that again (``sdk/go/common/workspace/loaders.go``,
  ``LoadProjectStackBytes``), which leaves every value as it was, except that a timestamp comes
  back as the text of Go's ``time.Time.String()``.
- Keys (``sdk/go/common/resource/config/key.go``, ``ParseKey``; ``loaders.go``,
  ``stackConfigNamespacedWithProject``): a key with no colon belongs to the project, ``ns:key`` is
  the usual form, ``ns:config:key`` the legacy form of ``ns:key``; anything else is refused.
- Values (``sdk/go/common/resource/config/object.go``, ``MarshalString``): a string is passed as
  is, a boolean or number as its JSON text, a mapping or list as JSON (Go's ``encoding/json``:
  sorted keys, no spaces, ``<``, ``>`` and ``&`` escaped), a mapping of the single key ``secure``
  as an encrypted value. A key with no value is ``""`` with a warning (``loaders.go``,
  ``checkForEmptyConfig``); inside a mapping, null stays null.
- The engine's own checks, made before the program runs (``pkg/workspace/config.go``,
  ``mergeConfig``, ``validateStackConfigValues``): a project key declared with neither ``default``
  nor ``value`` must be set, and a declared ``type`` must match.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import yaml

PLAIN_TAG = "tag:pachyderm-okta,2026:go-plain"


class EngineReadError(ValueError):
    """A stack file the engine refuses to read (its text, where the CLI prints one)."""


@dataclass(frozen=True)
class GoTime:
    """A YAML timestamp: the engine passes the text of Go's ``time.Time.String()``."""

    text: str


# --- YAML scalars as yaml.v3 resolves them -------------------------------------------------------

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_YAML_STYLE_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_INT64 = (-(2**63), 2**63 - 1)
_UINT64_MAX = 2**64 - 1


def _go_parse_uint(text: str, base: int) -> int | None:
    """Go's ``strconv.ParseUint(text, base, 64)`` (base 0: the literal's prefix says)."""
    if base == 0:
        lowered = text.lower()
        if lowered.startswith(("0x", "0o", "0b")):
            base, text = {"x": 16, "o": 8, "b": 2}[lowered[1]], text[2:]
        elif len(text) > 1 and text.startswith("0"):
            base, text = 8, text[1:]
        else:
            base = 10
    if not text or not all(char.isascii() and char.isalnum() for char in text):
        return None
    try:
        value = int(text, base)
    except ValueError:
        return None
    return value if value <= _UINT64_MAX else None


def _go_parse_int(text: str, base: int) -> int | None:
    """Go's ``strconv.ParseInt(text, base, 64)``."""
    sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text.removeprefix("+"))
    magnitude = _go_parse_uint(digits, base)
    if magnitude is None:
        return None
    value = sign * magnitude
    return value if _INT64[0] <= value <= _INT64[1] else None


def _go_parse_float(text: str) -> float | None:
    """Go's ``strconv.ParseFloat(text, 64)`` for the decimal forms YAML can reach here."""
    if not _GO_FLOAT.match(text):
        return None
    value = float(text)
    return None if math.isinf(value) else value  # Go: "value out of range"


_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:([Tt ])(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?)?$"
)


def _timestamp(text: str) -> GoTime | None:
    """yaml.v3's ``parseTimestamp``, and the text the engine ends up passing for it."""
    match = _TIMESTAMP.match(text)
    if match is None:
        return None
    year, month, day, separator, hour, minute, second, fraction, zone = match.groups()
    if (separator in ("T", "t") and zone is None) or (separator == " " and zone is not None):
        return None
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:
        return None
    nanos = (fraction or "").ljust(9, "0")
    clock = moment.strftime("%Y-%m-%d %H:%M:%S")
    if int(nanos):
        clock += "." + nanos.rstrip("0")
    if zone in (None, "Z"):
        return GoTime(f"{clock} +0000 UTC")
    # A fixed zone with no name: Go prints the offset twice (-0700 and, for the name, +hhmm).
    offset = zone.replace(":", "")
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if hours == 0 and minutes == 0:
        return GoTime(f"{clock} +0000 UTC")
    if timedelta(hours=hours, minutes=minutes) >= timedelta(hours=24):
        return None
    return GoTime(f"{clock} {offset} {offset}")


def resolve_plain(text: str) -> Any:  # noqa: C901 - yaml.v3 resolve(), branch by branch
    """A plain (unquoted, untagged) YAML scalar as yaml.v3 resolves it into a Go ``any``."""
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    hint = text[0]
    if hint == ".":
        return _go_parse_float(text) if _go_parse_float(text) is not None else text
    if not (hint.isdigit() or hint in "+-"):
        return text
    moment = _timestamp(text)
    if moment is not None:
        return moment
    plain = text.replace("_", "")
    for parse in (lambda: _go_parse_int(plain, 0), lambda: _go_parse_uint(plain, 0)):
        number = parse()
        if number is not None:
            return number
    if _YAML_STYLE_FLOAT.match(plain):
        value = _go_parse_float(plain)
        if value is not None:
            return value
    for prefix, base in (("0b", 2), ("0o", 8)):
        if plain.startswith(prefix):
            number = _go_parse_int(plain[2:], base)
            if number is None:
                number = _go_parse_uint(plain[2:], base)
            if number is not None:
                return number
        elif plain.startswith(f"-{prefix}"):
            number = _go_parse_int("-" + plain[3:], base)
            if number is not None:
                return number
    return text


class GoYamlLoader(yaml.SafeLoader):
    """YAML as yaml.v3 reads it into Go values (see :func:`resolve_plain`)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:  # noqa: D102 - PyYAML's
        if kind is yaml.ScalarNode and implicit[0] and value != "<<":
            return PLAIN_TAG
        return super().resolve(kind, value, implicit)


def _construct_plain(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    return resolve_plain(str(loader.construct_scalar(node)))


GoYamlLoader.add_constructor(PLAIN_TAG, _construct_plain)


# --- Values as the engine passes them ------------------------------------------------------------


def go_float(value: float) -> str:
    """A float64 as Go's ``encoding/json`` writes it: shortest digits, fixed unless tiny or huge."""
    if math.isnan(value) or math.isinf(value):
        raise EngineReadError(f"json: unsupported value: {_go_special(value)}")
    if value == 0:
        return "0"  # -0 too: the engine's YAML round trip writes -0 and reads back the integer 0
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        return re.sub(r"e-0(\d)$", r"e-\1", repr(value))  # Go cleans e-07 up to e-7
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _go_special(value: float) -> str:
    return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")


def _plain_json(value: Any) -> Any:
    if isinstance(value, GoTime):
        return value.text
    if isinstance(value, dict):
        return {str(key): _plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_json(item) for item in value]
    return value


def go_json(value: Any) -> str:
    """``value`` as Go's ``json.Marshal`` writes it (sorted keys, HTML characters escaped)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, GoTime):
        return go_json(value.text)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
            text = text.replace(char, escape)
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    if isinstance(value, dict):
        items = sorted((str(key), item) for key, item in value.items())
        return "{" + ",".join(f"{go_json(key)}:{go_json(item)}" for key, item in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(go_json(item) for item in value) + "]"
    raise EngineReadError(f"unexpected value of type {type(value).__name__}")


def engine_text(value: Any) -> str:
    """A top-level config value as the engine passes it (``object.MarshalString``)."""
    if value is None:
        return ""  # checkForEmptyConfig: "treated as an empty string"
    if isinstance(value, str):
        return value
    if isinstance(value, GoTime):
        return value.text
    if isinstance(value, bool | int | float):
        return go_json(value)
    try:
        return go_json(_plain_json(value))
    except EngineReadError as error:
        raise EngineReadError(
            f"json: error calling MarshalJSON for type config.object: {error}"
        ) from None


def is_secure(value: Any) -> bool:
    """A mapping of the one key ``secure`` with a string: an encrypted value (``isSecureValue``)."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


# --- Keys ----------------------------------------------------------------------------------------


def engine_key(project_name: str, key: str) -> str:
    """The ``namespace:name`` the engine makes of a stack file's key (or EngineReadError)."""
    if ":" not in key:
        return f"{project_name}:{key}"
    parts = key.split(":")
    if len(parts) == 2:
        return key
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return f"{parts[0]}:{parts[2]}"
    raise EngineReadError(
        f"could not parse {key} as a configuration key "
        "(configuration keys should be of the form `<namespace>:<name>`)"
    )


def empty_value_warning(keys: list[str]) -> str | None:
    """``checkForEmptyConfig``'s warning for the stack file's keys with no value.

    The keys are named ``namespace:name``: the loader warns after rewriting the bare keys in place
    (``stackConfigNamespacedWithProject`` stores its map in the same ``projectStack``). Several
    keys are listed in Go's map order, which varies from run to run.
    """
    if not keys:
        return None
    quoted = [f'"{key}"' for key in keys]
    names = quoted[0] if len(quoted) == 1 else (" and " if len(quoted) == 2 else ", ").join(quoted)
    plural = "s" if len(keys) > 1 else ""
    return (
        f"No value for configuration key{plural} {names}. This is currently treated as an empty "
        'string `""`, but will be treated as `null` in a future version of pulumi.\n'
        f'Set the value{plural} to `""` to avoid this warning.'
    )


# --- The engine's own checks, before the program runs --------------------------------------------


def _type_matches(type_name: str, items: Any, value: Any) -> bool:
    """``workspace.ValidateConfigValue`` (sdk/go/common/workspace/project.go)."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return True  # a JSON number, a float64 in Go
        if isinstance(value, float):
            return value == math.trunc(value)
        if isinstance(value, str):
            return (
                re.fullmatch(r"[+-]?\d+", value) is not None
                and _go_parse_int(value, 10) is not None
            )
        return False
    if type_name == "boolean":
        return value in ("true", "false") or isinstance(value, bool)
    if type_name == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or not isinstance(items, dict):
        return False
    return all(_type_matches(str(items.get("type")), items.get("items"), item) for item in value)


def _full_type_name(type_name: str, items: Any) -> str:
    if isinstance(items, dict):
        return f"array<{_full_type_name(str(items.get('type')), items.get('items'))}>"
    return type_name


def _missing_keys_error(stack_name: str, missing: list[str]) -> str:
    """``missingStackConfigurationKeysError``, ``formatMissingKeys`` (pkg/workspace/config.go)."""
    names = [f"'{key}'" for key in sorted(missing)]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    noun = "value" if len(names) == 1 else "values"
    return f"Stack '{stack_name}' is missing configuration {noun} {listed}"


@dataclass(frozen=True)
class EngineValue:
    """A stack file's value as the engine's checks see it: text, whether secret or structured."""

    text: str
    secure: bool
    structured: bool
    content: Any
    """What ``validateStackConfigValue`` checks the type of: the text, or the decoded JSON."""


def engine_problems(
    stack_name: str,
    project_name: str,
    declarations: Mapping[str, Any],
    values: Mapping[str, EngineValue],
    may_come_from_environment: bool,
) -> list[str]:
    """What ``pulumi up`` stops with before the program runs, in the engine's words, in its order.

    The engine stops at the first of these: all missing keys in one message, then each key (in
    sorted order of the declarations) whose value is not of its declared type; ``make check``
    lists them all. With an ESC environment, a missing key may come from it and is not reported
    (the caller says so).
    """
    problems: list[str] = []
    missing: list[str] = []
    for name in sorted(declarations):
        declaration = declarations[name]
        key = name if ":" in name else f"{project_name}:{name}"
        has_default = isinstance(declaration, dict) and (
            declaration.get("default") is not None or declaration.get("value") is not None
        )
        if not isinstance(declaration, dict):
            has_default = declaration is not None
        if key not in values and not has_default and key.split(":")[0] == project_name:
            missing.append(name)
    if missing and not may_come_from_environment:
        problems.append(_missing_keys_error(stack_name, missing))
    for name in sorted(declarations):
        declaration = declarations[name]
        key = name if ":" in name else f"{project_name}:{name}"
        if not isinstance(declaration, dict) or key not in values:
            continue
        value = values[key]
        if declaration.get("secret") and not value.secure:
            problems.append(
                f"Stack '{stack_name}' with configuration key '{name}' must be encrypted as it's "
                "secret"
            )
            continue
        type_name = declaration.get("type")
        if type_name is not None and not _type_matches(
            str(type_name), declaration.get("items"), value.content
        ):
            full = _full_type_name(str(type_name), declaration.get("items"))
            problems.append(
                f"Stack '{stack_name}' with configuration key '{name}' must be of type '{full}'"
            )
    return problems


def engine_value(value: Any, *, secure_text: str) -> EngineValue:
    """What the engine makes of a top-level stack value (secure parts given as ``secure_text``)."""
    if is_secure(value):
        return EngineValue(secure_text, True, False, secure_text)
    if isinstance(value, dict | list):
        text = engine_text(_replace_secure(value, secure_text))
        return EngineValue(text, _has_secure(value), True, json.loads(text))
    text = engine_text(value)
    return EngineValue(text, False, False, text)


def _has_secure(value: Any) -> bool:
    if is_secure(value):
        return True
    if isinstance(value, dict):
        return any(_has_secure(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_secure(item) for item in value)
    return False


def _replace_secure(value: Any, secure_text: str) -> Any:
    if is_secure(value):
        return secure_text
    if isinstance(value, dict):
        return {key: _replace_secure(item, secure_text) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_secure(item, secure_text) for item in value]
    return value
