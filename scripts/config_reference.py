"""Write docs/configuration.md from the settings models' own declarations.

    ./venv/bin/python scripts/config_reference.py           # rewrite docs/configuration.md
    ./venv/bin/python scripts/config_reference.py --check   # exit 1 if the file differs

Every key, its type, default and meaning come from the pydantic fields in components/settings
(their aliases, annotations, constraints, defaults and descriptions), and the refused provider
keys from the pinned provider SDKs, so the reference cannot drift from what the program accepts.
tests/test_config_reference.py fails when the committed file is not what this script writes.
"""

# ruff: noqa: E501 - the Markdown below has one table row per line, as the rendered file does.
from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import pulumi
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from components import urls  # noqa: E402
from components.settings import SECRET_KEYS, StackConfigError, load_settings  # noqa: E402
from components.settings.namespaces import (  # noqa: E402
    KUBERNETES,
    OKTA,
    PROJECT,
    PROVIDER_NAMESPACES,
    REFUSED_PROVIDER_KEYS,
    provider_keys,
)
from components.settings.schema import known_keys, model_at  # noqa: E402

OUTPUT = ROOT / "docs" / "configuration.md"


@dataclass(frozen=True)
class Row:
    """One key of the reference."""

    key: str
    type: str
    default: str
    meaning: str


def _optional_inner(annotation: Any) -> Any:
    """``X`` for ``X | None``, else ``annotation``."""
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(inner) == 1:
            return inner[0]
    return annotation


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    inner = _optional_inner(annotation)
    return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None


def _entry_model(annotation: Any) -> type[BaseModel] | None:
    """``M`` for a mapping of names to ``M`` (``auth.projects``), else ``None``."""
    inner = _optional_inner(annotation)
    if get_origin(inner) is not dict:
        return None
    return _nested_model(get_args(inner)[1])


def yaml_type(annotation: Any) -> str:
    """What a stack file writes for ``annotation``, in YAML's words."""
    annotation = _optional_inner(annotation)
    origin = get_origin(annotation)
    if origin is Literal:
        choices = [f"`{choice}`" for choice in get_args(annotation)]
        return "one of " + ", ".join(choices) if len(choices) > 1 else choices[0]
    if origin in (Union, types.UnionType):
        return " or ".join(yaml_type(member) for member in get_args(annotation))
    if origin is tuple:
        return "list of " + _plural(yaml_type(get_args(annotation)[0]))
    if origin is dict:
        key, value = get_args(annotation)
        if value is Any:
            return "mapping"
        return f"mapping of {yaml_type(key)} to {yaml_type(value)}"
    if origin is Annotated:
        return yaml_type(get_args(annotation)[0])
    if annotation is pulumi.Output or origin is pulumi.Output:
        return "string"
    # A URL is parsed from the string the stack file holds.
    simple = {
        str: "string",
        bool: "true/false",
        int: "whole number",
        float: "number",
        urls.PublicUrl: "string (URL)",
    }
    if annotation in simple:
        return simple[annotation]
    if _nested_model(annotation) is not None:
        return "mapping"
    raise TypeError(f"no YAML wording for the annotation {annotation!r}")


def _plural(kind: str) -> str:
    if kind.startswith("one of "):
        return "values, each " + kind
    return {"string": "strings", "whole number": "whole numbers", "number": "numbers"}.get(
        kind, kind
    )


def _bounds(info: FieldInfo) -> str:
    parts: list[str] = []
    for constraint in info.metadata:
        if isinstance(constraint, annotated_types.Ge):
            parts.append(f">= {_number(constraint.ge)}")
        elif isinstance(constraint, annotated_types.Gt):
            parts.append(f"> {_number(constraint.gt)}")
        elif isinstance(constraint, annotated_types.Le):
            parts.append(f"<= {_number(constraint.le)}")
        elif isinstance(constraint, annotated_types.Lt):
            parts.append(f"< {_number(constraint.lt)}")
    return ", ".join(parts)


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _default(info: FieldInfo) -> str:
    if info.default is PydanticUndefined and info.default_factory is None:
        return "required"
    value = info.default_factory() if info.default_factory is not None else info.default  # type: ignore[call-arg]
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple | list):
        return "`[]`" if not value else f"`{list(value)}`"
    if isinstance(value, dict):
        return "`{}`" if not value else f"`{value}`"
    return f"`{_number(value)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rows(model: type[BaseModel], prefix: str) -> Iterator[Row]:
    """One row per key of ``model`` (nested mappings expanded), keyed as errors print them."""
    for name, info in model.model_fields.items():
        alias = info.alias or name
        key = f"{prefix}{alias}"
        nested = _nested_model(info.annotation)
        if nested is not None:
            # A mapping: its own row, then its keys.
            default = "unset" if info.default is None else "`{}`"
            yield Row(key, "mapping", default, info.description or "")
            yield from rows(nested, f"{key}.")
            continue
        kind = yaml_type(info.annotation)
        entry = _entry_model(info.annotation)
        if entry is not None:
            # Named entries of one shape: the mapping's row, then one row per key of an entry.
            yield Row(key, kind, _default(info), info.description or "")
            yield from rows(entry, f"{key}.<name>.")
            continue
        bounds = _bounds(info)
        if bounds:
            kind = f"{kind}, {bounds}"
        if key in SECRET_KEYS:
            kind = f"{kind}, **secret**"
        yield Row(key, kind, _default(info), info.description or "")


def namespace_rows(namespace: str) -> list[Row]:
    """Every key the settings read in ``namespace``."""
    return list(rows(_namespace_model(namespace), f"{namespace}:"))


def _namespace_model(namespace: str) -> type[BaseModel]:
    model = model_at((namespace,))
    if model is None:
        raise LookupError(f"no settings model reads the namespace {namespace}")
    return model


def _table(found: list[Row]) -> list[str]:
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    lines += [
        f"| `{row.key}` | {_cell(row.type)} | {row.default} | {_cell(row.meaning)} |"
        for row in found
    ]
    return lines


def every_row() -> list[Row]:
    """Every key the settings accept, in the order of the reference."""
    return [row for namespace in (PROJECT, OKTA, KUBERNETES) for row in namespace_rows(namespace)]


def _refused_lines() -> list[str]:
    lines = ["| key | why it is refused |", "|---|---|"]
    lines += [f"| `{key}` | {_cell(reason)} |" for key, reason in REFUSED_PROVIDER_KEYS.items()]
    for namespace, (label, _sdk) in PROVIDER_NAMESPACES.items():
        read = set(known_keys(_namespace_model(namespace)))
        refused = {key.partition(":")[2] for key in REFUSED_PROVIDER_KEYS}
        rest = sorted(provider_keys(namespace) - read - refused)
        if rest:
            keys = ", ".join(f"`{namespace}:{key}`" for key in rest)
            lines.append(
                f"| {keys} | {label} provider settings this program does not pass on; "
                "`Pulumi.yaml` disables the default provider that would read them |"
            )
    return lines


INTRO = """\
# Configuration reference

<!-- Generated by `./venv/bin/python scripts/config_reference.py` from the settings models in
components/settings; edit the models' descriptions, not this file. -->

A stack file (`Pulumi.<stack>.yaml`) holds two kinds of keys. **Provider keys** belong to a
Pulumi provider and are written `<provider>:<key>`: `okta:orgName` is read by the Okta provider
(pulumi-okta), `kubernetes:context` by the Kubernetes provider. **Project keys** belong to this
program and are written `pachyderm-okta:<key>`; three of them hold a map of settings, whose full
names are written with a dot, as errors print them: `appLabel` under `pachyderm-okta:okta` is
`pachyderm-okta:okta.appLabel`.

```yaml
config:
  okta:orgName: dev-123456                              # provider key
  pachyderm-okta:publicUrl: http://192.168.49.2:30080   # project key
  pachyderm-okta:okta:                                  # project key holding a map
    appLabel: Pachyderm (dev)                           #   = pachyderm-okta:okta.appLabel
```

Secrets (marked **secret** below) are set with `pulumi config set --secret <key>`, which asks for
the value; a secret found in plaintext in a stack file is refused. `Pulumi.yaml` declares every
project key with its default. `Pulumi.dev.yaml` (minikube or kind, a free Okta developer org) and
`Pulumi.prod.yaml` (an https URL on a cloud load balancer, data in S3) are complete examples; a
test keeps them valid. Every mistake is reported at once, before anything is created, each line
prefixed by its full key ([Reading a configuration error](troubleshooting.md#reading-a-configuration-error)).
"""

READ_OR_REFUSED = """\
## Every key is read or refused

Before anything is created, `pulumi up` and `make preview` check **every** key of the stack
(`Pulumi.<stack>.yaml`, the defaults in `Pulumi.yaml`, and keys an ESC environment adds). A key
the program would ignore is an error, so a typo never deploys silently:

| key | what happens |
|---|---|
| the `pachyderm-okta:*`, `okta:*` and `kubernetes:*` keys above | validated; the program builds its Okta and Kubernetes providers from the provider keys above, and nothing else |
| `pulumi:*` (`pulumi:disable-default-providers`, `pulumi:tags`, `pulumi:autonaming`, ...) | Pulumi's own; passed through untouched |
| an unknown key inside a namespace or map above | **refused**, naming the key you probably meant |
| a key in a namespace listed in `pachyderm-okta:ignoreNamespaces` | ignored: for a stack that imports an ESC environment shared with other programs (`aws:region`, ...) |
| a key in any other namespace (`aws:region`, `random:seed`, ...) | **refused**, naming the remedy: remove it, or list its namespace in `pachyderm-okta:ignoreNamespaces` |
| a key in a namespace one or two typing mistakes from one the program reads (`pachyderm-okts:auth`, `otka:orgName`) | **refused**, naming the namespace you probably meant, even when listed in `ignoreNamespaces`: ignoring it would silently drop the settings it was meant to hold |

Provider keys that are refused:
"""

# A stack file with a misspelled namespace, misspelled keys and wrong types, as the engine passes
# it: ``{"namespace:key": (value, is_secret)}``. Its error is produced by the program itself.
EXAMPLE_STACK: dict[str, tuple[str, bool]] = {
    "okta:orgName": ("dev-123456", False),
    "okta:baseUrl": ("okta.com", False),
    "okta:apiToken": ("an SSWS token", True),
    "okta:scopes": ("okta.apps.manage", False),
    f"{PROJECT}:publicUrl": ("http://192.168.49.2:30080", False),
    f"{PROJECT}:pachyderm": (
        '{"helmTimeoutSeconds": "15m", "values": {"pachd": {"activateAuth": true}}}',
        False,
    ),
    "pachyderm-okts:auth": ('{"clusterAdmins": ["group:pachyderm-admins"]}', False),
    "aws:region": ("us-east-1", False),
    "kubernetes:contxt": ("minikube", False),
    "kubernetes:namespace": ("pachyderm", False),
}


def example_error() -> str:
    """What ``pulumi up`` prints for :data:`EXAMPLE_STACK`."""
    try:
        load_settings(lambda: EXAMPLE_STACK)
    except StackConfigError as error:
        return str(error)
    raise AssertionError("the example stack validated")


def _example() -> str:
    return f"""\
Wrong types are described in the words of the stack file (what the key must hold, and what it
holds), never by quoting the value, which may be a secret. A stack file with a misspelled
namespace, misspelled keys and wrong types fails like this:

```
{example_error()}
```

What each message means: [Reading a configuration error](troubleshooting.md#reading-a-configuration-error).
"""


SECTIONS: list[tuple[str, str, str]] = [
    (
        "## Project keys",
        PROJECT,
        "Read by this program. `pachyderm-okta:okta`, `pachyderm-okta:pachyderm` and "
        "`pachyderm-okta:auth` are maps; each of their keys is listed with its full name. The "
        "Helm values you may and may not override: "
        "[docs/operations.md](operations.md#the-helm-release-and-the-values-you-may-override).",
    ),
    (
        "## Okta provider keys",
        OKTA,
        "The program builds its Okta provider from these keys only. The tuning keys are "
        "forwarded to it as they are; left unset, the provider's own default (in parentheses) "
        "applies.",
    ),
    (
        "## Kubernetes provider keys",
        KUBERNETES,
        "The program builds its Kubernetes provider from these keys only (default providers "
        "are disabled, so the cluster is always explicit).",
    ),
]


def render() -> str:
    """The whole of docs/configuration.md."""
    lines = [INTRO]
    for heading, namespace, text in SECTIONS:
        lines += [heading, "", text, "", *_table(namespace_rows(namespace)), ""]
    lines += [READ_OR_REFUSED, *_refused_lines(), "", _example()]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    """Write the reference, or with ``--check`` report whether the committed one is current."""
    text = render()
    if argv[1:] == ["--check"]:
        if OUTPUT.read_text() != text:
            print(
                f"{OUTPUT.relative_to(ROOT)} is out of date: run ./venv/bin/python scripts/{Path(__file__).name}"
            )
            return 1
        return 0
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
