"""The repository explains itself: what it cites, it contains.

A maintainer who meets ``tests/wss/test_verification.py`` or ``H12`` in a docstring must find that file in
the checkout and that rule in ``docs/rules.md``, not in a folder that only the first developers had.
Three checks keep it so:

- every repository path cited in the Markdown files and in the docstrings and comments of the code
  exists, and a ``path::test_name`` names a function that is in that file; no doc outside the repository
  (``shared/docs``, a bare ``design.md``) is cited;
- every rule id cited anywhere (``H12``, ``S2``, ``WB004``, ``O5``, …, also as ``test_h12_…``) is defined
  in ``docs/rules.md``, and ``docs/rules.md`` defines no id that nothing cites;
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "docs" / "rules.md"

#: The top-level folders a cited repository path starts with.
TOP_LEVEL = ("broker", "tests", "docs", "xsd", "wsdl", "bench", "scripts", "deploy", "conformance")
#: Folders whose code is read for citations; the Markdown files are read wherever they are.
CODE_FOLDERS = ("broker", "tests", "bench", "scripts", "deploy", "conformance", "xsd", "wsdl", ".ci")
#: Frozen copies that must stay byte-equal to what they copy: yesterday's conformance kit, replayed
#: by tests/conformance/test_yesterdays_kit.py exactly as it was published.
FROZEN = ("tests/conformance/gisteren",)
#: Files that hold data, keys or generated output, not prose.
NOT_PROSE = {".pem", ".der", ".crt", ".key", ".p12", ".csv", ".json", ".gz", ".zip", ".png", ".xlsx"}

#: ``broker/x/y.py``, ``docs/rules.md``, ``tests/wss/`` and an optional ``::test_name``. Not preceded by a
#: word character, dot, slash or hyphen, so a URL path (``https://duo.nl/docs/x``) or
#: ``shared/docs/x.md`` does not count as a repository path.
REPO_PATH = re.compile(r"(?<![\w./-])((?:" + "|".join(TOP_LEVEL) + r")/(?:[\w.-]+/)*[\w.-]*)(?:::(\w+))?")
#: A Markdown file named without a folder (``design.md``): it must be a file of the repository.
BARE_MARKDOWN = re.compile(r"(?<![\w./-])([\w-]+\.md)\b")
#: Documents outside the repository (the first developers' shared folder).
OUTSIDE_DOCS = re.compile(r"shared/docs\b")

#: The rule-id families of docs/rules.md: hostile inputs (H), the Edukoppeling checklist (T, A, S, E, F,
#: M, R, O), Digikoppeling WUS (WW, WS, WA, WM, WT, WB), Digikoppeling Beveiliging (TLS, TLSCIPH, PKI,
#: SIGN, ENC) and WS-I (R plus four digits). Ruff codes (E731, F811, BLE001) have three digits after one
#: letter, or three letters, and are not matched.
RULE_ID = re.compile(
    r"(?<![\w.-])(H\d{1,3}|[TASEFMRO]\d{1,2}|W[WSAMTB]\d{3}|(?:TLSCIPH|TLS|PKI|SIGN|ENC)\d{3}|R\d{4})(?!\w)"
)
#: ``H64–H67``, ``T4-T6``, ``SIGN001–SIGN003``: every id of the range is cited.
RULE_RANGE = re.compile(r"(?<![\w.-])([A-Z]+)(\d+)\s?[–-]\s?\1(\d+)(?!\w)")
#: ``test_h64_h66_…``: a test named after the rules it proves.
TEST_NAME = re.compile(r"\btest_\w+")
TEST_NAME_PART = re.compile(r"^([hmsoatfre])(\d{1,3})$")

#: Labels that look like rule ids but are not: (file, pattern, why).
NOT_RULE_IDS = [
    ("tests/rapportage/procesfeiten.py", r"A\d+", "pupils A1-A10 of the process-facts scenario"),
    ("tests/rapportage/test_procesfeiten.py", r"A\d+", "pupils A1-A10 of the process-facts scenario"),
    ("tests/rapportage/scenario.py", r"R1", "pupil R1 of the report scenario"),
    ("tests/rapportage/test_cijfers.py", r"R1", "pupil R1 of the report scenario"),
    ("broker/db/commit_order.py", r"T\d", "transactions T1 and T2 of the ordering proof"),
    ("tests/privacy/test_audit.py", r"T0", "the test's start time"),
    ("broker/rapportage/output.py", r"A2", "a spreadsheet cell"),
]


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@cache
def _text_files() -> tuple[Path, ...]:
    """Every text file of the repository that may cite: Markdown anywhere, and the code folders.
    This test is left out: its examples of wrong citations are wrong on purpose."""
    paths = {p for p in ROOT.glob("*.md")} | {ROOT / "pyproject.toml"}
    for folder in CODE_FOLDERS + ("docs",):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in NOT_PROSE:
                if not _relative(path).startswith(FROZEN):
                    paths.add(path)
    paths.discard(Path(__file__).resolve())
    text = []
    for path in sorted(paths):
        try:
            path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        text.append(path)
    return tuple(text)


def _python_prose(source: str) -> list[str]:
    """The docstrings (every string that stands alone as a statement) and comments of Python code."""
    pieces = [
        node.value.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    pieces += [token.string for token in tokens if token.type == tokenize.COMMENT]
    return pieces


def _hash_comments(source: str) -> list[str]:
    """The ``#`` comments of a configuration file, shell script, unit file or Containerfile."""
    return [line.split("#", 1)[1] for line in source.splitlines() if line.lstrip().startswith("#")]


@cache
def _prose() -> tuple[tuple[str, str], ...]:
    """(file, text) for the Markdown files and for the docstrings and comments of everything else."""
    pieces = []
    for path in _text_files():
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".md":
            parts = [text]
        elif path.suffix == ".py":
            parts = _python_prose(text)
        elif path.suffix in {".xml", ".xsd", ".wsdl"}:
            parts = re.findall(r"<!--(.*?)-->", text, re.S)
        else:
            parts = _hash_comments(text)
        pieces += [(_relative(path), part) for part in parts]
    return tuple(pieces)


def _defines_function(path: Path, name: str) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == name
        for node in ast.walk(tree)
    )


def missing_paths() -> list[str]:
    """Each cited path (with the file citing it) that is not in the repository."""
    file_names = {path.name for path in _text_files() if path.suffix == ".md"}
    errors = []
    for file, text in _prose():
        for found in REPO_PATH.finditer(text):
            path, function = found.group(1).rstrip("."), found.group(2)
            following = text[found.end() : found.end() + 1]
            if following in ("<", "{", "*") or path.endswith(("-", "_")):
                continue  # a pattern such as wsdl/vva-<dienst>-v1.wsdl or tests/*/
            target = ROOT / path
            if not target.exists():
                errors.append(f"{file}: {path} does not exist")
            elif function and not (target.suffix == ".py" and _defines_function(target, function)):
                errors.append(f"{file}: {path} defines no {function}")
        for found in BARE_MARKDOWN.finditer(text):
            if found.group(1) not in file_names:
                errors.append(f"{file}: {found.group(1)} is no file of the repository")
        if OUTSIDE_DOCS.search(text):
            errors.append(f"{file}: cites shared/docs, which is outside the repository")
    return sorted(set(errors))


def _not_a_rule(file: str, rule_id: str) -> bool:
    return any(path == file and re.fullmatch(pattern, rule_id) for path, pattern, _ in NOT_RULE_IDS)


def _ids_in(text: str) -> set[str]:
    ids = set(RULE_ID.findall(text))
    for prefix, begin, end in RULE_RANGE.findall(text):
        if prefix == "R" and len(begin) == 4:
            continue  # WS-I numbers are not consecutive: a range cites its ends only
        width = len(begin) if begin.startswith("0") else 0
        ids |= {f"{prefix}{n:0{width}d}" for n in range(int(begin), int(end) + 1)}
    for name in TEST_NAME.findall(text):
        for part in name.split("_"):
            if found := TEST_NAME_PART.match(part):
                ids.add(found.group(1).upper() + found.group(2))
    return {i for i in ids if RULE_ID.fullmatch(i)}


@cache
def cited_rule_ids() -> dict[str, set[str]]:
    """Every rule id cited in the repository (outside docs/rules.md), with the files citing it."""
    cited: dict[str, set[str]] = {}
    for path in _text_files():
        if path == RULES:
            continue
        file = _relative(path)
        for rule_id in _ids_in(path.read_text(encoding="utf-8")):
            if not _not_a_rule(file, rule_id):
                cited.setdefault(rule_id, set()).add(file)
    return cited


def defined_rule_ids() -> list[str]:
    """The ids docs/rules.md defines: each row of its tables starts with ``| ID |``."""
    return re.findall(r"^\|\s*([A-Z]+\d+)\s*\|", RULES.read_text(encoding="utf-8"), re.M)


def test_every_cited_path_exists():
    assert missing_paths() == []


def test_the_path_check_sees_a_missing_file_a_missing_test_and_an_outside_doc():
    # The check itself: a pattern that matched nothing would pass every repository.
    text = (
        "See tests/wss/test_verification.py::test_niet_bestaand, tests/zzz/nergens.py, design.md and "
        "../shared/docs/edukoppeling.md; docs/rules.md and tests/test_self_contained.py exist."
    )
    found = [(m.group(1), m.group(2)) for m in REPO_PATH.finditer(text)]
    assert found == [
        ("tests/wss/test_verification.py", "test_niet_bestaand"),
        ("tests/zzz/nergens.py", None),
        ("docs/rules.md", None),
        ("tests/test_self_contained.py", None),
    ]
    assert not _defines_function(ROOT / "tests/wss/test_verification.py", "test_niet_bestaand")
    assert BARE_MARKDOWN.findall(text) == ["design.md"]
    assert OUTSIDE_DOCS.search(text)


def test_rule_ids_are_read_from_text_ranges_and_test_names():
    assert _ids_in("(H64–H67; T4-T6, SIGN001–SIGN003, WB010, BSP R5404; E731, F811, X509, 2027-W05)") == {
        "H64", "H65", "H66", "H67", "T4", "T5", "T6", "SIGN001", "SIGN002", "SIGN003", "WB010", "R5404",
    }  # fmt: skip
    assert _ids_in("def test_h64_h66_herhaling(): ...  def test_sha256_md5(): ...") == {"H64", "H66"}


def test_every_cited_rule_id_is_defined_in_docs_rules_md():
    defined = set(defined_rule_ids())
    missing = {i: sorted(b) for i, b in cited_rule_ids().items() if i not in defined}
    assert missing == {}


def test_docs_rules_md_defines_each_id_once_and_only_ids_something_cites():
    ids = defined_rule_ids()
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    assert sorted(set(ids) - set(cited_rule_ids())) == []


PIPELINE = ROOT / "broker/web/pipeline.py"
#: The class and the method where a POST enters the pipeline.
PIPELINE_CLASS, PIPELINE_ENTRY = "SoapPipeline", "_process"


class _CallOrder(ast.NodeVisitor):
    """The names a method calls, in the order they run: arguments before the call they feed, and a call
    of another method of the same class (``self.x(...)``) followed by what that method calls. The
    path of a request that passes: exception handlers and lambda bodies are skipped."""

    def __init__(self, methods: dict[str, ast.FunctionDef]) -> None:
        self.methods, self.names, self._busy = methods, [], set()

    def run(self, name: str) -> list[str]:
        self._busy.add(name)
        for statement in self.methods[name].body:
            self.visit(statement)
        self._busy.discard(name)
        return self.names

    def visit_Lambda(self, node: ast.Lambda) -> None:
        return None

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        return None

    def visit_Call(self, node: ast.Call) -> None:
        for argument in [*node.args, *node.keywords]:
            self.visit(argument)
        function = node.func
        if isinstance(function, ast.Attribute):
            self.visit(function.value)
            name = function.attr
        elif isinstance(function, ast.Name):
            name = function.id
        else:
            self.visit(function)
            return
        self.names.append(name)
        is_own_method = isinstance(function, ast.Attribute) and ast.unparse(function.value) == "self"
        if is_own_method and name in self.methods and name not in self._busy:
            self.run(name)


def pipeline_steps_in_code() -> list[str]:
    """Every name the pipeline calls for one POST, in the order the code runs them."""
    tree = ast.parse(PIPELINE.read_text(encoding="utf-8"))
    klass = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == PIPELINE_CLASS)
    methods = {n.name: n for n in klass.body if isinstance(n, ast.FunctionDef)}
    return _CallOrder(methods).run(PIPELINE_ENTRY)


def pipeline_steps_in_doc() -> list[str]:
    """The function names that open the numbered items under "## The pipeline" of docs/architecture.md."""
    text = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    section = text.split("\n## The pipeline\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\d+\.\s+`(\w+)`", section, re.M)


def _out_of_order(doc: list[str], code: list[str]) -> list[str]:
    """The doc's steps that the code does not call after the step before them (empty: the doc's list
    is the code's order)."""
    wrong, position = [], 0
    for step in doc:
        if step in code[position:]:
            position += code[position:].index(step) + 1
        else:
            wrong.append(step)
    return wrong


def test_architecture_md_lists_the_pipeline_steps_in_the_order_the_code_runs_them():
    doc = pipeline_steps_in_doc()
    assert len(doc) >= 15  # the list is there and names the steps
    assert _out_of_order(doc, pipeline_steps_in_code()) == []


def test_the_order_check_sees_a_step_out_of_place():
    code = ["read_body", "log_received", "_tls_oin", "parse_message", "read_envelope"]
    assert _out_of_order(["read_body", "_tls_oin", "read_envelope"], code) == []
    assert _out_of_order(["read_body", "read_envelope", "_tls_oin"], code) == ["_tls_oin"]
    assert _out_of_order(["read_body", "nergens"], code) == ["nergens"]
    # The order docs/architecture.md gave before: TLS after WS-Addressing.
    earlier = ["read_body", "parse_message", "read_addressing", "_tls_oin", "verify_envelope"]
    assert _out_of_order(earlier, pipeline_steps_in_code()) == ["_tls_oin"]


if __name__ == "__main__":  # pragma: no cover - a maintainer's listing of what is cited
    for rule_id, files in sorted(cited_rule_ids().items()):
        print(rule_id, " ".join(sorted(files)))
    print("\n".join(missing_paths()))
    pytest.main([__file__, "-q"])
