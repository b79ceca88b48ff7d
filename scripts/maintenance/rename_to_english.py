#!/usr/bin/env python3
"""Rename Dutch infrastructure names of vva-broker to English (issue 19, item 1).

    python scripts/maintenance/rename_to_english.py <repo root> [--mapping FILE] [--dry-run]

Deterministic and idempotent: run it on a tree, run it again, nothing changes the second time. A
source that is missing (a module another branch split or removed) is skipped with a message.

What it does, in this order (the mapping ``rename_to_english.toml`` next to this script says what):

1. ``[modules]`` — ``git mv`` each module (``broker/<package>/<module>.py``) or package (``broker/<package>/<module>/``) to its new
   dotted path; ``[files]`` — ``git mv`` other files (tests that mirror a module).
2. Dotted module paths (``broker.a.b``) and file paths (``broker/<package>/<module>.py``) are rewritten in every
   text file of the repository: Python code and strings (``mock.patch("broker.a.b.f")``),
   pyproject.toml (import-linter contracts), docs, deploy/, README, CONTRIBUTING, tests, bench.
   ``from broker.a import b`` becomes ``from broker.a import new_b`` and the module's bare name is
   renamed in that file.
3. ``[identifiers]`` — Python identifiers are renamed on NAME tokens only (``tokenize``), never inside
   a string literal, so fault texts, message-log texts and XSD element names stay byte-identical.
   Inside docstrings, comments and Markdown only ``backticked`` names are renamed (and
   ``broker.x.name`` dotted references). Names that are XSD/spyne fields or ORM columns
   (``broker/soap/models.py``, ``broker/db/models.py``), operation names and Alembic migrations are
   protected: a mapping entry for one of them is refused with a message.
4. ``[settings_keys]`` — settings keys: NAME tokens everywhere (the ``Settings`` field) and whole
   words in strings / text of the files listed in ``settings_key_files``.
5. ``[cli_options]`` — CLI options: exact ``--option`` words in the files listed in ``cli_option_files``.
6. ``[[strings]]`` — literal replacements restricted to given files (globs), for the few places where
   an identifier is also spelled in a string (``click`` parameter names, ``getattr``, monkeypatch).
7. ``[[scoped]]`` — an identifier renamed only in some files (``files``/``exclude`` globs) and,
   optionally, only inside some functions/classes (``functions``): a word with two meanings
   (``instellingen``: settings, but institutions in refdata and the domain). The first rule that
   matches a token wins; scoped rules win over ``[identifiers]``.
8. ``[[attributes]]`` — ``owner.old`` becomes ``owner.new`` for the given owner names only
   (``dienst.sleutel`` → ``dienst.service_id``; ``sleutel`` itself is an ORM column).
``settings_key_keep`` lists wire texts that name a settings key and must stay byte-identical.
Python 3.11 tokenizes an f-string as one STRING token: names inside its ``{fields}`` are renamed too.

Warnings (not errors) are printed for: an old identifier that also occurs as a whole string literal
in a Python file (a ``getattr``/``label``/click name that may need a ``[[strings]]`` entry), and a new
identifier that already occurs in a file where the old one is renamed (possible shadowing).
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import io
import keyword
import re
import subprocess
import sys
import tokenize
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    sys.exit("needs Python 3.11+ (tomllib)")

HERE = Path(__file__).resolve().parent

#: Text files whose contents are rewritten (besides *.py).
TEXT_SUFFIXES = {
    ".py",
    ".md",
    ".toml",
    ".example",
    ".yaml",
    ".yml",
    ".conf",
    ".service",
    ".timer",
    ".cfg",
    ".ini",
    ".txt",
    ".sh",
    ".mako",
    ".rst",
}
TEXT_NAMES = {"Containerfile", "run", "test", "demo", "vva-crl-fetch", ".dockerignore"}
#: Never touched (wire contract, schema history, test data, this tool with its mapping, and the test
#: of the names a tool outside the repository imports).
EXCLUDE = [
    "scripts/maintenance/*",
    "tests/test_bench_peer.py",
    "broker/db/migrations/*",
    "wsdl/*",
    "xsd/*.xsd",
    "tests/data/*",
    "*/samples/*",
    "tests/e2e/data/*",
    "tests/conformance/gisteren/*",
    "tests/interop/*/*",
]
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def log(msg: str) -> None:
    print(msg, flush=True)


# --- loading --------------------------------------------------------------------------------------


TABLE_SECTIONS = ("modules", "files", "identifiers", "settings_keys", "cli_options")
LIST_SECTIONS = ("strings", "scoped", "attributes")


def load_mapping(path: Path) -> dict:
    """The mapping in ``path`` plus the parts in ``<stem>.d/*.toml`` next to it, in name order.

    Parts let several people extend the mapping at once without editing one file: their tables are
    merged (one old name with two different new names is refused) and their rule lists appended.
    """
    m = tomllib.loads(path.read_text(encoding="utf-8"))
    for section in TABLE_SECTIONS:
        m.setdefault(section, {})
    for section in LIST_SECTIONS:
        m.setdefault(section, [])
    for part_path in sorted(path.parent.glob(f"{path.stem}.d/*.toml")):
        merge_part(m, tomllib.loads(part_path.read_text(encoding="utf-8")), part_path.name)
    m.setdefault("strings", [])
    m.setdefault("settings_key_files", [])
    m.setdefault("settings_key_exclude", [])
    m.setdefault("cli_option_files", [])
    m.setdefault("keep", {})
    m.setdefault("scoped", [])
    m.setdefault("attributes", [])
    m.setdefault("prose_exclude", [])
    return m


def merge_part(m: dict, part: dict, name: str) -> None:
    unknown = set(part) - set(TABLE_SECTIONS) - set(LIST_SECTIONS)
    if unknown:
        sys.exit(f"{name}: a mapping part may only hold {TABLE_SECTIONS + LIST_SECTIONS}, not {sorted(unknown)}")
    for section in TABLE_SECTIONS:
        for old, new in part.get(section, {}).items():
            if m[section].get(old, new) != new:
                sys.exit(f"{name}: [{section}] {old} = {new} clashes with {m[section][old]}")
            m[section][old] = new
    for section in LIST_SECTIONS:
        m[section].extend(part.get(section, []))


def git_files(root: Path) -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True).stdout
    return sorted(p for p in out.decode().split("\0") if p and (root / p).is_file())


def excluded(rel: str) -> bool:
    return any(fnmatch.fnmatch(rel, pat) for pat in EXCLUDE)


def is_text(rel: str) -> bool:
    p = Path(rel)
    return p.suffix in TEXT_SUFFIXES or p.name in TEXT_NAMES


def matches(rel: str, globs: list[str]) -> bool:
    return any(fnmatch.fnmatch(rel, g) for g in globs)


# --- 1. module moves ------------------------------------------------------------------------------


def module_path(root: Path, dotted: str) -> Path | None:
    base = root / Path(*dotted.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base
    return None


def target_path(root: Path, old_dotted: str, new_dotted: str, src: Path) -> Path:
    base = root / Path(*new_dotted.split("."))
    return base if src.is_dir() else base.with_suffix(".py")


def git_mv(root: Path, src: Path, dst: Path, dry: bool) -> None:
    log(f"  git mv {src.relative_to(root)} {dst.relative_to(root)}")
    if not dry:
        dst.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "mv", str(src.relative_to(root)), str(dst.relative_to(root))], cwd=root, check=True
        )


def move_modules(root: Path, m: dict, dry: bool) -> None:
    log("== modules")
    for old, new in m["modules"].items():
        src = module_path(root, old)
        if src is None:
            if module_path(root, new) is not None:
                continue  # already moved
            log(f"  skip {old}: not in this tree")
            continue
        if module_path(root, new) is not None:
            log(f"  skip {old} -> {new}: both exist (merge by hand)")
            continue
        git_mv(root, src, target_path(root, old, new, src), dry)
    log("== files")
    for old, new in m["files"].items():
        src, dst = root / old, root / new
        if src.exists() and not dst.exists():
            git_mv(root, src, dst, dry)
        elif not src.exists() and not dst.exists():
            log(f"  skip {old}: not in this tree")


# --- 2. dotted paths and file paths in text -------------------------------------------------------


def path_rewriters(m: dict) -> list[tuple[re.Pattern, str]]:
    """Regexes for ``broker.a.b`` and ``broker/<package>/<module>(.py)``, longest first so packages do not win."""
    subs: list[tuple[re.Pattern, str]] = []
    for old, new in sorted(m["modules"].items(), key=lambda kv: -len(kv[0])):
        subs.append((re.compile(r"(?<![\w.])" + re.escape(old) + r"(?![\w])"), new))
        o, n = old.replace(".", "/"), new.replace(".", "/")
        subs.append((re.compile(r"(?<![\w/])" + re.escape(o) + r"(?=\.py\b|/|(?![\w.]))"), n))
    for old, new in m["files"].items():
        subs.append((re.compile(r"(?<![\w/])" + re.escape(old) + r"(?![\w])"), new))
        # cited as path::test or without folder, as test files usually are
    return subs


def rewrite_paths(text: str, subs) -> str:
    for pat, new in subs:
        text = pat.sub(new, text)
    return text


# --- 3. identifiers -------------------------------------------------------------------------------


def protected_names(root: Path) -> set[str]:
    """Names that are on the wire or in the schema: fields and classes of the spyne models (XSD names),
    ORM attributes (column names), and the parameters of spyne ``@rpc`` methods."""
    names: set[str] = set()
    for rel in ("broker/soap/models.py", "broker/db/models.py"):
        p = root / rel
        if not p.is_file():
            continue
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                names.add(node.name)  # spyne type names are XSD names; ORM classes stay with their tables
                for stmt in node.body:
                    for t in _targets(stmt):
                        names.add(t)
    for p in (root / "broker/soap").glob("*.py") if (root / "broker/soap").is_dir() else []:
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and getattr(d.func, "id", "") == "rpc" for d in node.decorator_list
            ):
                names.add(node.name)
                names.update(a.arg for a in node.args.args)
    return names


def _targets(stmt) -> list[str]:
    if isinstance(stmt, ast.Assign):
        return [t.id for t in stmt.targets if isinstance(t, ast.Name)]
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return [stmt.target.id]
    return []


def docstring_positions(source: str) -> set[tuple[int, int]]:
    """(line, col) of every docstring's string token."""
    pos: set[tuple[int, int]] = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return pos
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                pos.add((body[0].value.lineno, body[0].value.col_offset))
    return pos


BACKTICKS = re.compile(r"(``?)([^`\n]+?)\1")


def rename_in_prose(text: str, idents: dict[str, str]) -> str:
    """Rename identifiers inside `backticks` / ``double backticks`` only (docstrings, comments, md)."""
    if not idents:
        return text

    def inner(mo: re.Match) -> str:
        body = IDENT.sub(lambda w: _ident_in_prose(w, idents), mo.group(2))
        return mo.group(1) + body + mo.group(1)

    return BACKTICKS.sub(inner, text)


def _ident_in_prose(w: re.Match, idents: dict[str, str]) -> str:
    s = w.string
    # --option-like words (``--vanaf``) are CLI options, handled elsewhere
    # --option-like words and file names (``bench/_opstelling.py``) are not identifiers
    if w.start() >= 1 and s[w.start() - 1] in "-/":
        return w.group(0)
    if s[w.end() : w.end() + 1] == "/" or re.match(r"\.(py|toml|md|json|pem|csv)\b", s[w.end() :]):
        return w.group(0)
    return idents.get(w.group(0), w.group(0))


DOTTED_REF = re.compile(r"\bbroker(?:\.[A-Za-z_]\w*)+")


def rename_dotted_refs(text: str, idents: dict[str, str]) -> str:
    """In ``broker.a.b.name`` references (mock.patch targets, docs), rename identifier components."""

    def sub(mo: re.Match) -> str:
        parts = mo.group(0).split(".")
        return ".".join([parts[0]] + [idents.get(p, p) for p in parts[1:]])

    return DOTTED_REF.sub(sub, text)


def scope_ranges(source: str, names: list[str]) -> list[tuple[int, int]]:
    """Line ranges of the functions/classes called one of ``names`` (anywhere in the file)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [
        (min([n.lineno] + [d.lineno for d in getattr(n, "decorator_list", [])]), n.end_lineno)
        for n in ast.walk(tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name in names
    ]


def scoped_map(source: str, rel: str, m: dict) -> list[tuple[int, int, dict[str, str]]]:
    """[(first line, last line, {old: new})] of the ``[[scoped]]`` rules that apply to this file."""
    out = []
    for rule in m["scoped"]:
        if not matches(rel, rule.get("files", ["*"])) or matches(rel, rule.get("exclude", [])):
            continue
        if "functions" in rule:
            for a, b in scope_ranges(source, rule["functions"]):
                out.append((a, b, {rule["old"]: rule["new"]}))
        else:
            out.append((1, 10**9, {rule["old"]: rule["new"]}))
    return out


KEEP: list[str] = []


def apply_settings(text: str, settings_subs) -> str:
    """Replace settings keys as whole words, except inside the texts of ``settings_key_keep`` (wire
    texts that happen to name a key: they stay byte-identical)."""
    held = {}
    for i, keep in enumerate(KEEP):
        if keep in text:
            token = f"\x00KEEP{i}\x00"
            held[token] = keep
            text = text.replace(keep, token)
    for pat, repl in settings_subs:
        text = pat.sub(repl, text)
    for token, keep in held.items():
        text = text.replace(token, keep)
    return text


def rename_python(
    source: str,
    idents: dict[str, str],
    module_aliases: dict[str, str],
    settings_subs,
    in_settings_scope: bool,
    warnings: list[str],
    rel: str,
    m: dict | None = None,
) -> str:
    """Rewrite a Python file token by token."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError) as exc:
        warnings.append(f"{rel}: not tokenizable ({exc}); skipped identifier renames")
        return source
    docs = docstring_positions(source)
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln))
    scoped = scoped_map(source, rel, m) if m else []
    attrs = m["attributes"] if m else []
    local_f = dict(idents)  # f-string fields: the global map and the file-wide scoped rules
    for a, b, mp in scoped:
        if a == 1 and b == 10**9:
            local_f.update(mp)
    out: list[str] = []
    last = 0
    prev: list[tokenize.TokenInfo] = []
    for i, tok in enumerate(tokens):
        start = offsets[tok.start[0] - 1] + tok.start[1]
        end = offsets[tok.end[0] - 1] + tok.end[1]
        new = None
        if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
            for rule in attrs:  # ``owner.old`` where owner is one of the given names
                if (
                    tok.string == rule["old"]
                    and len(prev) >= 2
                    and prev[-1].string == "."
                    and prev[-2].type == tokenize.NAME
                    and prev[-2].string in rule["owners"]
                ):
                    new = rule["new"]
                    break
            if new is None:
                for a, b, mp in scoped:
                    if a <= tok.start[0] <= b and tok.string in mp:
                        new = mp[tok.string]
                        break
            if new is None and tok.string in idents:
                new = idents[tok.string]
            elif new is None and tok.string in module_aliases:
                # the module's bare name: not an attribute (``verzoek.bestand``), not a keyword argument
                after = next(
                    (t for t in tokens[i + 1 :] if t.type not in (tokenize.NL, tokenize.COMMENT)), None
                )
                if not (prev and prev[-1].string == ".") and not (after and after.string == "="):
                    new = module_aliases[tok.string]
        elif tok.type == tokenize.STRING:
            s = rename_fstring_fields(tok.string, local_f, attrs, module_aliases)
            if tok.start in docs:
                s = rename_in_prose(s, idents)
            s = rename_dotted_refs(s, idents)
            if in_settings_scope:
                s = apply_settings(s, settings_subs)
            if s != tok.string:
                new = s
        elif tok.type == tokenize.COMMENT:
            s = rename_dotted_refs(rename_in_prose(tok.string, idents), idents)
            if in_settings_scope:
                s = apply_settings(s, settings_subs)
            if s != tok.string:
                new = s
        if tok.type not in (
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.COMMENT,
            tokenize.INDENT,
            tokenize.DEDENT,
        ):
            prev = (prev + [tok])[-2:]
        if new is not None:
            out.append(source[last:start])
            out.append(new)
            last = end
    out.append(source[last:])
    return "".join(out)


FSTRING_FIELD = re.compile(r"(?<!\{)\{(?!\{)([^{}]*)\}")
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def rename_fstring_fields(
    tok: str, local: dict[str, str], attrs: list | None = None, aliases: dict[str, str] | None = None
) -> str:
    """Python 3.11 tokenizes an f-string as one STRING token: rename names in its ``{expressions}``
    (not inside quotes there, not after a ``:`` format spec or ``!`` conversion)."""
    prefix = re.match(r"[A-Za-z]*", tok).group(0)
    if "f" not in prefix.lower():
        return tok

    def field(mo: re.Match) -> str:
        expr = mo.group(1)
        parts, pos = [], 0
        for q in QUOTED.finditer(expr):
            parts.append(_code(expr[pos : q.start()], local, attrs or [], aliases or {}))
            parts.append(q.group(0))
            pos = q.end()
        parts.append(_code(expr[pos:], local, attrs or [], aliases or {}))
        return "{" + "".join(parts) + "}"

    return prefix + FSTRING_FIELD.sub(field, tok[len(prefix) :])


def _code(expr: str, local: dict[str, str], attrs: list, aliases: dict[str, str]) -> str:
    for rule in attrs:
        expr = re.sub(
            r"\b(" + "|".join(map(re.escape, rule["owners"])) + r")\s*\.\s*" + re.escape(rule["old"]) + r"\b",
            lambda mo, new=rule["new"]: mo.group(1) + "." + new,
            expr,
        )
    for old, new in aliases.items():
        expr = re.sub(r"(?<![.\w])" + re.escape(old) + r"(?![\w])(?!\s*=[^=])", new, expr)
    return IDENT.sub(lambda w: _code_ident(w, local), expr)


def _code_ident(w: re.Match, local: dict[str, str]) -> str:
    return local.get(w.group(0), w.group(0)) if not keyword.iskeyword(w.group(0)) else w.group(0)


def string_literal_warnings(source: str, rel: str, idents: dict[str, str], warnings: list[str]) -> None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    docs = docstring_positions(source)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in idents
            and (node.lineno, node.col_offset) not in docs
        ):
            warnings.append(
                f"{rel}:{node.lineno}: string {node.value!r} equals a renamed identifier "
                f"(-> {idents[node.value]}); check getattr/label/click names"
            )


def shadow_warnings(source: str, rel: str, idents: dict[str, str], warnings: list[str]) -> None:
    try:
        names = {
            t.string
            for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type == tokenize.NAME
        }
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return
    for old, new in idents.items():
        if old in names and new in names:
            warnings.append(f"{rel}: both {old!r} and its new name {new!r} occur (check for shadowing)")


def import_aliases(source: str, m: dict) -> dict[str, str]:
    """``from broker.a import b`` (b an old module, no ``as``): rename ``b`` in this file."""
    aliases: dict[str, str] = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return aliases
    old_mods = m["modules"]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if full in old_mods:
                    new_base = old_mods[full].rsplit(".", 1)[1]
                    if a.asname is None and new_base != a.name:
                        aliases[a.name] = new_base
    return aliases


# --- driver ---------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--mapping", type=Path, default=HERE / "rename_to_english.toml")
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--quiet-warnings", action="store_true")
    args = ap.parse_args()
    root: Path = args.root.resolve()
    m = load_mapping(args.mapping)

    # sanity of the mapping: idempotent only when no new name is also an old one
    idents: dict[str, str] = dict(m["identifiers"])
    for k, v in m["settings_keys"].items():
        idents.setdefault(k, v)
    clash = set(idents) & set(idents.values())
    if clash:
        sys.exit(f"mapping not idempotent: {sorted(clash)} are both old and new names")
    mod_clash = set(m["modules"]) & set(m["modules"].values())
    if mod_clash:
        sys.exit(f"module mapping not idempotent: {sorted(mod_clash)}")
    bad = [k for k in idents if not IDENT.fullmatch(k) or not IDENT.fullmatch(idents[k])]
    if bad:
        sys.exit(f"not identifiers: {bad}")

    KEEP[:] = m.get("settings_key_keep", [])
    protected = protected_names(root)
    for name in sorted(set(idents) & protected):
        log(f"  refuse identifier {name} -> {idents.pop(name)}: an XSD/spyne field, rpc name or ORM column")

    move_modules(root, m, args.dry_run)

    subs = path_rewriters(m)
    # a key may follow a ``\n`` escape inside a Python string ("...\nkey = 1")
    settings_subs = [
        (re.compile(r"(?:(?<![\w/.-])|(?<=\\n))" + re.escape(k) + r"(?!\w|\.\w)"), v)
        for k, v in sorted(m["settings_keys"].items(), key=lambda kv: -len(kv[0]))
    ]
    cli_subs = [
        (re.compile(r"(?<![\w-])" + re.escape(k) + r"(?![\w-])"), v)
        for k, v in sorted(m["cli_options"].items(), key=lambda kv: -len(kv[0]))
    ]

    warnings: list[str] = []
    changed = 0
    log("== contents")
    for rel in git_files(root):
        if excluded(rel) or not is_text(rel):
            continue
        path = root / rel
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        new = rewrite_paths(text, subs)
        in_settings = matches(rel, m["settings_key_files"]) and not matches(rel, m["settings_key_exclude"])
        if rel.endswith(".py"):
            aliases = import_aliases(text, m)
            file_idents = dict(idents)
            for _a, _b, mp in scoped_map(text, rel, m):
                file_idents.update(mp)
            string_literal_warnings(new, rel, file_idents, warnings)
            shadow_warnings(text, rel, file_idents, warnings)
            new = rename_python(new, idents, aliases, settings_subs, in_settings, warnings, rel, m)
        else:
            if not matches(rel, m["prose_exclude"]):
                new = rename_dotted_refs(rename_in_prose(new, idents), idents)
            if in_settings:
                new = apply_settings(new, settings_subs)
        if matches(rel, m["cli_option_files"]):
            for pat, repl in cli_subs:
                new = pat.sub(repl, new)
        for entry in m["strings"]:
            if matches(rel, entry["files"]):
                new = new.replace(entry["old"], entry["new"])
        if new != text:
            changed += 1
            if not args.dry_run:
                path.write_text(new, encoding="utf-8")
    log(f"  {changed} files changed")

    if not args.quiet_warnings and warnings:
        log(f"== {len(warnings)} warnings")
        for w in warnings:
            log("  " + w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
