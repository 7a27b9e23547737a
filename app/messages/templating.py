"""Message templates written by students, rendered safely.

A template is Jinja text such as ``Dear {{ contact.full_name }}``. Two fences keep it harmless:

1. Before anything runs, the parsed template is checked against a short list of what a message
   needs: text, the known fields (``student.major``), ``{% if %}``, and a few text filters. Loops,
   calls, arithmetic, assignments, imports and every other field or name are refused with a
   sentence naming what was found. Without loops, calls or arithmetic, rendering takes time and
   memory in proportion to the template's own length.
2. What passes is rendered by Jinja's immutable sandbox, with no globals, strict undefined names,
   and only plain strings in the context.

A value the student has not given yet renders as a visible placeholder (``[your major]``),
never as a hole, and the checks report it.

The same bracketed names are how a student writes a template in plain words: ``to_source`` turns
"majoring in [your major]" into Jinja and ``to_plain`` turns it back, for any template made only
of text and fields; one with conditions or filters has no plain form and is edited as written.
"""

import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from app.errors import ValidationFailed

# Every field a template may use, and what its placeholder says when the value is missing.
FIELDS: dict[str, dict[str, str]] = {
    "student": {
        "name": "your name", "first_name": "your first name", "email": "your email",
        "school": "your school", "major": "your major", "career_goal": "your career goal",
        "graduation_year": "your graduation year", "signature": "your signature",
    },
    "contact": {
        "first_name": "their first name", "last_name": "their last name",
        "full_name": "their name", "title": "their title", "organization": "their organization",
        "industry": "their field", "location": "where they work",
        "referrer": "who referred you",
    },
    "interview": {"date": "the date you met", "topic": "something you discussed"},
    "outreach": {"date": "the date of your first message", "subject": "your first subject line"},
}
FIELD_NAMES = [f"{ns}.{name}" for ns, names in FIELDS.items() for name in names]
# "[your major]" → "student.major": how a placeholder left in a draft is traced to its field.
PLACEHOLDERS = {label: f"{ns}.{name}" for ns, names in FIELDS.items() for name, label in names.items()}

MAX_OUTPUT = 20_000


class Blank(str):
    """A value not given yet: empty (so ``{% if %}`` skips it) but it knows what to ask for."""

    label: str

    def __new__(cls, label: str) -> "Blank":
        blank = super().__new__(cls, "")
        blank.label = label
        return blank



def _text(change: Any) -> Any:
    """A text filter that keeps a placeholder a placeholder."""
    return lambda value: value if isinstance(value, Blank) else change(str(value))


def _article(text: str) -> str:
    """'physician assistant' → 'a physician assistant'; 'engineer' → 'an engineer'."""
    text = text.strip()
    if not text or text.lower().split(" ", 1)[0] in {"a", "an", "the"}:
        return text
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first.isupper():  # an acronym is read letter by letter: "a UX …"
        return ("an " if first[0] in "AEFHILMNORSX" else "a ") + text
    vowel = text[0].lower() in "aeiou" and not text.lower().startswith(("uni", "use", "usu", "eu"))
    return ("an " if vowel or text.lower().startswith(("hour", "honest", "honor")) else "a ") + text


# A career goal as students write it ("nursing", "a nurse", "work in healthcare consulting",
# "UX research"), made into what follows "in hopes of": "pursuing a career in nursing",
# "becoming a nurse", "working in healthcare consulting".
_VERBS = {"work": "working", "become": "becoming", "be": "becoming", "teach": "teaching",
          "do": "doing", "go": "going", "get": "getting", "pursue": "pursuing",
          "join": "joining", "help": "helping", "start": "starting", "build": "building",
          "practice": "practicing", "practise": "practising", "run": "running",
          "lead": "leading", "serve": "serving", "enter": "entering", "make": "making",
          "write": "writing", "create": "creating", "open": "opening", "move": "moving",
          "study": "studying", "care": "caring", "find": "finding", "land": "landing"}
_GERUNDS = set(_VERBS.values())
# A last word that names a person doing the work ("nurse", "physician assistant", "analyst").
_ROLE_ENDINGS = ("er", "or", "ist", "ian", "ant", "ent", "yst", "ect", "eon", "ef", "nurse",
                 "medic", "wright", "smith", "aide", "agent", "clerk", "officer", "specialist")
_NOT_ROLES = ("management", "development", "government", "environment", "entertainment",
              "recruitment", "investment", "procurement", "sector", "computer", "water",
              "cancer", "paper", "river", "power", "theater", "theatre", "center", "centre",
              "behavior", "behaviour", "labor", "labour", "public interest", "poster")
_WANTS = ("i want to ", "i would like to ", "i'd like to ", "i hope to ", "i plan to ",
          "hoping to ", "to ")


def career_phrase(goal: str) -> str:
    """What follows "in hopes of" for a career goal written any reasonable way."""
    text = " ".join(goal.split()).rstrip(".!;,")
    lowered = text.lower()
    for want in _WANTS:
        if lowered.startswith(want):
            text, lowered = text[len(want):], lowered[len(want):]
            break
    if not text:
        return text
    first, _, rest = text.partition(" ")
    if first.lower() in _GERUNDS:
        return text
    if first.lower() in _VERBS:
        return f"{_VERBS[first.lower()]} {rest}".strip()
    if lowered.startswith(("a career", "career")):
        return f"pursuing {_article(text) if lowered.startswith('career') else text}"
    if first.lower() in {"a", "an"}:
        return f"becoming {text}"
    last = lowered.rsplit(" ", 1)[-1]
    if (lowered.endswith(_ROLE_ENDINGS) and not lowered.endswith(_NOT_ROLES)
            and not last.endswith("ing")):
        return f"becoming {_article(text)}"
    return f"pursuing a career in {text}"


def _default(value: Any, fallback: str = "", boolean: bool = True) -> Any:
    return value if value else fallback


def _truncate(value: Any, length: int = 255) -> Any:
    if isinstance(value, Blank):
        return value
    text = str(value)
    return text if len(text) <= int(length) else text[: max(int(length) - 1, 0)].rstrip() + "…"


FILTERS: dict[str, Any] = {
    "upper": _text(str.upper), "lower": _text(str.lower), "title": _text(str.title),
    "capitalize": _text(str.capitalize), "trim": _text(str.strip), "article": _text(_article),
    "career": _text(career_phrase),
    "default": _default, "d": _default, "truncate": _truncate,
}


def _finalize(value: Any) -> Any:
    return f"[{value.label}]" if isinstance(value, Blank) else value


_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                                     finalize=_finalize, keep_trailing_newline=True)
_ENV.globals.clear()  # no range, cycler, joiner, lipsum, dict or namespace
_ENV.filters = FILTERS
_ENV.tests = {}

_ALLOWED = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Const, nodes.If,
            nodes.Concat, nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not,
            nodes.CondExpr)
# What a construct is called in the refusal.
_REFUSED = {
    nodes.For: "loops ({% for %})", nodes.Call: "function calls",
    nodes.BinExpr: "arithmetic", nodes.UnaryExpr: "arithmetic",
    nodes.Assign: "setting variables ({% set %})", nodes.AssignBlock: "setting variables ({% set %})",
    nodes.Macro: "macros", nodes.CallBlock: "macros", nodes.Include: "including other templates",
    nodes.Import: "importing", nodes.FromImport: "importing", nodes.Extends: "extending templates",
    nodes.Block: "blocks", nodes.Getitem: "indexing with [ ]", nodes.Slice: "indexing with [ ]",
    nodes.FilterBlock: "filter blocks", nodes.With: "{% with %}", nodes.Test: "tests (is …)",
    nodes.List: "lists", nodes.Tuple: "lists", nodes.Dict: "dictionaries",
}


class TemplateProblem(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _field_list() -> str:
    return ", ".join(FIELD_NAMES)


MAX_DEPTH = 24  # nesting of expressions and {% if %}s; real messages use three or four


def _check_node(node: nodes.Node, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise TemplateProblem(f"The template nests more than {MAX_DEPTH} levels deep. Keep "
                              "{% if %}s and filters simpler.")
    if isinstance(node, nodes.Getattr):
        if node.attr.startswith("_"):
            raise TemplateProblem(f"“{node.attr}” is not a field: names starting with “_” are "
                                  "never available.")
        if not isinstance(node.node, nodes.Name) or node.node.name not in FIELDS:
            raise TemplateProblem(f"“.{node.attr}” can only follow student, contact, interview or "
                                  f"outreach. The fields are: {_field_list()}.")
        if node.attr not in FIELDS[node.node.name]:
            raise TemplateProblem(f"“{node.node.name}.{node.attr}” is not a field. The fields "
                                  f"are: {_field_list()}.")
        return
    if isinstance(node, nodes.Name):
        raise TemplateProblem(f"“{node.name}” is not something a message can use. The fields "
                              f"are: {_field_list()}.")
    if isinstance(node, nodes.Filter):
        if node.name not in FILTERS:
            raise TemplateProblem(f"The filter “{node.name}” is not available. You can use: "
                                  f"{', '.join(sorted(FILTERS))}.")
        if node.node is not None:
            _check_node(node.node, depth + 1)
        for arg in node.args:
            if not isinstance(arg, nodes.Const) or not _plain(arg.value):
                raise TemplateProblem(f"The filter “{node.name}” takes only plain values: "
                                      "text, or a whole number up to 10,000.")
        if node.kwargs or node.dyn_args or node.dyn_kwargs:
            raise TemplateProblem(f"The filter “{node.name}” takes only plain values.")
        return
    if isinstance(node, nodes.Const) and not _plain(node.value):
        raise TemplateProblem("Message templates use plain values only: text, or a whole number "
                              "up to 10,000.")
    if not isinstance(node, _ALLOWED):  # "and", "or" and "not" are allowed before the refusals
        for kind, words in _REFUSED.items():
            if isinstance(node, kind):
                raise TemplateProblem(f"Message templates cannot use {words}. Use text, fields "
                                      "such as {{ student.major }}, and {% if %}.")
        raise TemplateProblem(f"Message templates cannot use “{type(node).__name__}”.")
    for child in node.iter_child_nodes():
        _check_node(child, depth + 1)


def _plain(value: Any) -> bool:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    return isinstance(value, int) and -10_000 <= value <= 10_000


def _compile(source: str) -> Any:
    try:
        tree = _ENV.parse(source)
        _check_node(tree)
        return _ENV.from_string(tree)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"Line {exc.lineno}: {exc.message}.") from None
    except (RecursionError, SyntaxError, MemoryError):  # past what the parser can nest
        raise TemplateProblem("The template nests too deeply to be read.") from None


# Values to try a template with before it is saved: every field given.
SAMPLE = {ns: {name: label for name, label in names.items()} for ns, names in FIELDS.items()}
# How a template reads with every field given, each shown by its name: "majoring in [your major]".
READING = {ns: {name: f"[{label}]" for name, label in names.items()} for ns, names in FIELDS.items()}


def check(fields: Mapping[str, str]) -> None:
    """Refuse unsafe or broken template text, by rendering it once with sample values."""
    render(fields, SAMPLE)


def render(fields: Mapping[str, str], context: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Render each source in ``fields`` with ``context`` (namespace → field → plain string)."""
    out: dict[str, str] = {}
    problems = []
    for field, source in fields.items():
        try:
            text = _compile(source).render(**context)
        except TemplateProblem as exc:
            problems.append((field, exc.message))
            continue
        except (TemplateError, TypeError, ValueError, ArithmeticError, RecursionError) as exc:
            problems.append((field, f"This template could not be used ({exc})."))
            continue
        if len(text) > MAX_OUTPUT:
            problems.append((field, f"The message would be {len(text):,} characters long; "
                                    f"the most is {MAX_OUTPUT:,}."))
            continue
        out[field] = text
    if problems:
        raise ValidationFailed("This template cannot be used: " + problems[0][1],
                               code="template_error", fields=problems)
    return out


# --- plain words ---

_BRACE = '{{ "{" }}'  # a "{" that would otherwise open a tag
_PLAIN_PARTS = re.compile(r"\[(" + "|".join(map(re.escape, PLACEHOLDERS)) + r")\]")


def _literal(text: str, before_field: bool) -> str:
    text = re.sub(r"\{(?=[{%#])", lambda _: _BRACE, text)
    return text[:-1] + _BRACE if before_field and text.endswith("{") else text


def to_source(plain: str) -> str:
    """Plain words → template source: "[your major]" becomes ``{{ student.major }}``, and
    anything else stays text exactly as typed, braces included."""
    plain = plain.replace("\r\n", "\n").replace("\r", "\n")  # as the parser reads line ends
    out, start = [], 0
    for match in _PLAIN_PARTS.finditer(plain):
        out.append(_literal(plain[start:match.start()], before_field=True))
        out.append("{{ " + PLACEHOLDERS[match.group(1)] + " }}")
        start = match.end()
    out.append(_literal(plain[start:], before_field=False))
    return "".join(out)


def _parse(source: str) -> nodes.Template | None:
    try:
        return _ENV.parse(source)
    except (TemplateSyntaxError, RecursionError, SyntaxError, MemoryError):
        return None


def to_plain(source: str) -> str | None:
    """Template source → plain words, or None when plain words cannot say the same: conditions,
    filters, or text that would read as a field. ``to_source`` of the result is the same template
    (only the spacing inside its tags and the line endings may differ)."""
    tree = _parse(source)
    if tree is None or "{#" in source:  # a comment has no place in the tree, nor in plain words
        return None
    parts = []
    for output in tree.body:
        if not isinstance(output, nodes.Output):
            return None
        for node in output.nodes:
            if isinstance(node, nodes.TemplateData):
                parts.append(node.data)
            elif (isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name)
                  and node.attr in FIELDS.get(node.node.name, {})):
                parts.append(f"[{FIELDS[node.node.name][node.attr]}]")
            elif isinstance(node, nodes.Const) and node.value == "{":
                parts.append("{")
            else:
                return None
    plain = "".join(parts)
    return plain if _parse(to_source(plain)) == tree else None
