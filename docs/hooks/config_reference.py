"""The configuration reference, generated: every key of the dataclass schemas in sweep/config.py,
its type, its default as composed from sweep/conf/ (interpolations shown as written) and its
meaning from docs/keys.yaml. An mkdocs hook (mkdocs.yml `hooks:`) that fills the markers in
docs/configuration.md; tests/unit/test_docs.py imports it to fail on an undocumented key."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

import yaml

DOCS = Path(__file__).resolve().parent.parent
KEYS_MARKER = "<!-- config-keys -->"
GROUPS_MARKER = "<!-- config-groups -->"


def schema_keys(cls: type | None = None, prefix: str = "") -> dict[str, str]:
    """Every leaf key of the schema → its type as written (a mapping-typed key is one leaf)."""
    from sweep.config import SweepConfig

    cls = cls or SweepConfig
    hints = typing.get_type_hints(cls)
    keys = {}
    for field in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[field.name]):
            keys.update(schema_keys(hints[field.name], f"{prefix}{field.name}."))
        else:
            keys[f"{prefix}{field.name}"] = str(field.type)
    return keys


def meanings() -> dict[str, str]:
    return yaml.safe_load((DOCS / "keys.yaml").read_text())


def undocumented() -> tuple[list[str], list[str]]:
    """(schema keys without a meaning, meanings of keys the schema does not have)."""
    schema, documented = set(schema_keys()), set(meanings())
    return sorted(schema - documented), sorted(documented - schema)


def composed_defaults() -> dict[str, Any]:
    """`python -m sweep`'s config with no overrides, interpolations unresolved."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from sweep import config
    from sweep.__main__ import CONF_DIR

    config.register()
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(config_name="config")
    return OmegaConf.to_container(cfg, resolve=False)


def _value(tree: dict[str, Any], key: str) -> Any:
    for part in key.split("."):
        tree = tree[part]
    return tree


def _shown(key: str, value: Any) -> str:
    if key == "search":
        return "per family: `sweep/conf/search/<family>.yaml`"
    if value is None:
        return "none"
    if value == {}:
        return ""
    text = yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix("...")
    return f"`{text.strip()}`"


def keys_table() -> str:
    missing, extra = undocumented()
    if missing or extra:
        raise ValueError(f"docs/keys.yaml: undocumented keys {missing}, unknown keys {extra}")
    defaults, meaning = composed_defaults(), meanings()
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for key, kind in schema_keys().items():
        kind = kind.replace("|", "or")  # a pipe would end the table cell
        rows.append(f"| `{key}` | {kind} | {_shown(key, _value(defaults, key))} | {meaning[key]} |")
    return "\n".join(rows)


def groups_table() -> str:
    """The config groups (`group=option` on the command line) and their options, from the files."""
    from sweep.__main__ import CONF_DIR

    conf = Path(CONF_DIR)
    chosen = {}
    for entry in yaml.safe_load((conf / "config.yaml").read_text())["defaults"]:
        if isinstance(entry, dict):
            chosen.update({k: v for k, v in entry.items() if "/" not in k and "override" not in k})
    rows = ["| group | options | default |", "| --- | --- | --- |"]
    for group in sorted(p for p in conf.iterdir() if p.is_dir() and p.name != "hydra"):
        options = ", ".join(f"`{p.stem}`" for p in sorted(group.glob("*.yaml")))
        name = f"+{group.name}=NAME" if group.name == "experiment" else f"{group.name}=NAME"
        default = chosen.get(group.name, "none")
        rows.append(f"| `{name}` | {options} | `{default}` |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if page.file.src_uri != "configuration.md":
        return markdown
    return markdown.replace(KEYS_MARKER, keys_table()).replace(GROUPS_MARKER, groups_table())


if __name__ == "__main__":
    print(groups_table(), "", keys_table(), sep="\n")
