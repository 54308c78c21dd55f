"""Just enough PromQL for the dashboard tests: variable substitution and the metric names and labels a query uses.

Not a validator (Prometheus and promtool are: see the tests), only an extractor over a tokenizer: vector selectors
(metric name + label matchers), grouping / matching label lists (`by`, `without`, `on`, `ignoring`, `group_left`,
`group_right`), and the destination / source labels of `label_replace`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[a-zA-Z]*)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>=~|!~|!=|==|>=|<=|[-+*/%^<>=,(){}])
""",
    re.VERBOSE,
)

AGGREGATORS = {
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "group",
}
MODIFIERS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "offset", "bool", "inf", "nan", "atan2"}
LABEL_FUNCTIONS = {"label_replace": (1, 3), "label_join": (1,)}  # argument positions that are label names

_VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)(?::\w+)?\}|\$([A-Za-z_]\w*)|\[\[([A-Za-z_]\w*)\]\]")
LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?P<selector>.*?)\s*,\s*(?P<label>[a-zA-Z_]\w*)\s*\)\s*$", re.S)


def fill(text: str, values: dict[str, str]) -> str:
    """Replace Grafana variables ($var, ${var}, ${var:fmt}, [[var]]) that `values` names; leave the rest ($1...)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        return values.get(name, match.group(0))

    return _VARIABLE.sub(replace, text)


def variables_used(text: str) -> set[str]:
    return {m.group(1) or m.group(2) or m.group(3) for m in _VARIABLE.finditer(text)}


@dataclass
class Selector:
    metric: str | None
    matchers: list[tuple[str, str, str]] = field(default_factory=list)  # (label, op, value)


@dataclass
class Parsed:
    selectors: list[Selector] = field(default_factory=list)
    grouping_labels: set[str] = field(default_factory=set)
    function_labels: set[str] = field(default_factory=set)  # label_replace / label_join dst and src

    @property
    def metrics(self) -> set[str]:
        return {s.metric for s in self.selectors if s.metric}


def tokenize(expr: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if match is None:
            raise ValueError(f"cannot tokenize at {pos}: {expr[pos : pos + 30]!r}")
        pos = match.end()
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append((kind, match.group(0)))
    return tokens


def _unquote(text: str) -> str:
    return text[1:-1]


def parse(expr: str) -> Parsed:
    tokens = tokenize(expr)
    out = Parsed()
    depth = 0
    label_calls: list[dict[str, int | str]] = []  # open label_replace/label_join calls
    i = 0

    def peek(offset: int = 1) -> tuple[str, str]:
        return tokens[i + offset] if i + offset < len(tokens) else ("", "")

    def matchers(start: int) -> tuple[list[tuple[str, str, str]], int]:
        found, j = [], start + 1
        while tokens[j][1] != "}":
            if tokens[j][1] == ",":
                j += 1
                continue
            label, op, value = tokens[j], tokens[j + 1], tokens[j + 2]
            if label[0] != "ident" or op[0] != "op" or value[0] != "str":
                raise ValueError(f"bad label matcher near {label[1]!r} in {expr!r}")
            found.append((label[1], op[1], _unquote(value[1])))
            j += 3
        return found, j

    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "ident":
            low = text.lower()
            if low in MODIFIERS:
                if peek()[1] == "(":
                    j = i + 2
                    while tokens[j][1] != ")":
                        if tokens[j][0] == "ident":
                            out.grouping_labels.add(tokens[j][1])
                        j += 1
                    i = j + 1
                    continue
            elif low in KEYWORDS:
                pass
            elif low in AGGREGATORS or peek()[1] == "(":
                if low in LABEL_FUNCTIONS and peek()[1] == "(":
                    label_calls.append({"name": low, "depth": depth + 1, "arg": 0})
            else:
                selector = Selector(text)
                if peek()[1] == "{":
                    selector.matchers, i = matchers(i + 1)
                out.selectors.append(selector)
        elif kind == "op" and text == "{":
            selector = Selector(None)
            selector.matchers, i = matchers(i)
            out.selectors.append(selector)
        elif text == "(":
            depth += 1
        elif text == ")":
            if label_calls and label_calls[-1]["depth"] == depth:
                label_calls.pop()
            depth -= 1
        elif text == "," and label_calls and label_calls[-1]["depth"] == depth:
            label_calls[-1]["arg"] = int(label_calls[-1]["arg"]) + 1
        elif kind == "str" and label_calls and label_calls[-1]["depth"] == depth:
            call = label_calls[-1]
            if call["arg"] in LABEL_FUNCTIONS[str(call["name"])]:
                out.function_labels.add(_unquote(text))
        i += 1
    return out


def legend_labels(legend: str) -> set[str]:
    return set(re.findall(r"\{\{\s*([a-zA-Z_]\w*)\s*\}\}", legend or ""))
