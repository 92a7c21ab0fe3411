"""Reading parameter values: params files (flat YAML, a key written twice refused) and the
command line's ``--set KEY=VALUE``, and each value coerced to its key's type (numbers in any
common notation, every float finite, text valid UTF-8). The keys themselves are cmnet.config's.
"""

from __future__ import annotations

import math
import re
import typing
from pathlib import Path


ECHO_LIMIT = 400  # an error message's length at most: a hostile value (megabytes, an expanding alias) is cut


def cut(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` cut in its middle to about ``limit`` characters, saying how much was left out."""
    text = str(text)
    if len(text) <= limit:
        return text
    head, tail = text[: limit * 3 // 4], text[-(limit // 4):]
    return f"{head} …[{len(text) - len(head) - len(tail)} characters cut]… {tail}"


class ConfigError(ValueError):
    """A parameter that is wrong: one line naming the file or flag and the key (cut to ECHO_LIMIT)."""

    def __init__(self, message: str = ""):
        super().__init__(cut(message))


# a number in any common notation (1e-3, 1E-3, .5, -2., +4): YAML 1.1 reads some of them as strings
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _coerce(value, typ, key, source):
    def bad(why=None):
        want = getattr(typ, "__name__", typ)
        return ConfigError(f"{source}: parameter {key!r} must be {why or want}, got {_echo(value)}")

    origin = typing.get_origin(typ)
    if origin is list:
        (inner,) = typing.get_args(typ)
        if not isinstance(value, (list, tuple)):
            raise bad()
        return [_coerce(v, inner, key, source) for v in value]
    if isinstance(value, str) and typ in (int, float) and _NUMBER.match(value.strip()):
        number = float(value)
        if typ is int and not (math.isfinite(number) and number == int(number)):
            raise bad()
        value = int(number) if typ is int else number
    if typ is bool:
        if not isinstance(value, bool):
            raise bad()
        return value
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad()
        return value
    if typ is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad()
        if not math.isfinite(value):  # no key needs infinity or NaN
            raise bad("a finite number")
        return float(value)
    if typ is str:
        if not isinstance(value, str):
            raise bad()
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigError(f"{source}: parameter {key!r} is not valid UTF-8 text ({value!r})") from None
        return value
    raise bad()


def _echo(value, limit: int = 200) -> str:
    """A value's repr for a message, never longer than ``limit`` (repr of a list is built piecewise:
    a list of a million items is not printed whole first)."""
    if isinstance(value, (list, tuple)) and len(value) > 20:
        return cut(repr(list(value[:20]))[:-1] + f", … ({len(value)} items)]", limit)
    return cut(repr(value), limit)


class _Alias(Exception):
    def __init__(self, line):
        self.line = line


def _no_alias_loader():
    """yaml.SafeLoader that refuses aliases (``*name``): a flat params file has no use for them,
    and nested ones expand exponentially when printed (a "billion laughs")."""
    import yaml

    class Loader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise _Alias(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)

    return Loader


def _load_yaml(text: str, loader_class):
    loader = loader_class(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def parse_sets(items: list[str], source: str = "--set") -> dict:
    """``KEY=VALUE`` strings (the command line's ``--set``) → a flat dict; each value is read
    as YAML (``seeds=[0,1]``, ``hflip=false``); a malformed item is a ConfigError naming it."""
    import yaml

    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"{source} takes KEY=VALUE, got {_echo(item)}")
        k, v = item.split("=", 1)
        try:
            v.encode("utf-8")
            value = _load_yaml(v, _no_alias_loader())
        except _Alias:
            raise ConfigError(f"{source} {k}=…: a YAML alias (*name); write the value itself") from None
        except UnicodeEncodeError:
            raise ConfigError(f"{source} {k}=…: the value is not valid UTF-8 text") from None
        except yaml.YAMLError as e:
            what = getattr(e, "problem", None) or str(e).splitlines()[0]
            raise ConfigError(f"{source} {_echo(item)}: not a YAML value ({what})") from None
        if isinstance(value, dict):
            raise ConfigError(f"{source} {_echo(item)}: a mapping; a value is a number, a word, true/false or a [list]")
        out[k.strip()] = value
    return out


class _DuplicateKey(Exception):
    def __init__(self, key, line, first):
        self.key, self.line, self.first = key, line, first


def _unique_key_loader():
    import yaml

    class Loader(_no_alias_loader()):
        """yaml.SafeLoader that refuses a mapping key written twice (PyYAML keeps the last) and
        aliases."""

        def construct_mapping(self, node, deep=False):
            seen = {}
            for k, _ in node.value:
                key = self.construct_object(k, deep=deep)
                if key in seen:
                    raise _DuplicateKey(key, k.start_mark.line + 1, seen[key])
                seen[key] = k.start_mark.line + 1
            return super().construct_mapping(node, deep)

    return Loader


def read_params(path: str | Path) -> dict:
    import yaml

    _UniqueKeyLoader = _unique_key_loader()

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"params file {path} not found")
    try:
        loader = _UniqueKeyLoader(path.read_text())
        try:
            data = loader.get_single_data() or {}
        finally:
            loader.dispose()
    except _Alias as e:
        raise ConfigError(f"{path}, line {e.line}: a YAML alias (*name): a params file writes each value itself") \
            from None
    except _DuplicateKey as e:
        raise ConfigError(f"{path}, line {e.line}: parameter {e.key!r} is written twice (first on line "
                          f"{e.first}); keep one") from None
    except yaml.YAMLError as e:  # one line naming file, line and column, not PyYAML's traceback
        mark = getattr(e, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        what = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{path}{where}: YAML syntax error: {what}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a params file is a flat mapping of key: value lines")
    for k, v in data.items():
        if isinstance(v, dict):
            raise ConfigError(f"{path}: parameter {k!r} is nested; params files are flat")
    return data
