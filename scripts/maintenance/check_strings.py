#!/usr/bin/env python3
"""Compare the string constants (not docstrings) of broker/ in two trees.

    python scripts/maintenance/check_strings.py <old tree or git rev:repo> <new tree>

``old`` may be a directory, or ``git:<repo>@<rev>`` to read broker/ at a commit. Prints every string
that is only in one tree (as a multiset per whole broker/ package, since modules move), and the WSDL/XSD
files that differ.
"""

import ast
import collections
import subprocess
import sys
from pathlib import Path


def docstring_nodes(tree):
    ids = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            b = n.body
            if (
                b
                and isinstance(b[0], ast.Expr)
                and isinstance(b[0].value, ast.Constant)
                and isinstance(b[0].value.value, str)
            ):
                ids.add(id(b[0].value))
    return ids


def strings(sources):
    c = collections.Counter()
    for src in sources:
        tree = ast.parse(src)
        docs = docstring_nodes(tree)
        for n in ast.walk(tree):
            if isinstance(n, ast.Constant) and isinstance(n.value, (str, bytes)) and id(n) not in docs:
                c[n.value] += 1
    return c


def tree_sources(spec, sub="broker", suffix=".py"):
    if spec.startswith("git:"):
        repo, rev = spec[4:].split("@")
        files = subprocess.run(
            ["git", "ls-tree", "-r", "--name-only", rev, sub],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return {
            f: subprocess.run(
                ["git", "show", f"{rev}:{f}"], cwd=repo, capture_output=True, text=True, check=True
            ).stdout
            for f in files
            if f.endswith(suffix) and "/migrations/" not in f
        }
    root = Path(spec)
    return {
        str(p.relative_to(root)): p.read_text()
        for p in (root / sub).rglob("*" + suffix)
        if "migrations" not in p.parts
    }


def main():
    old, new = sys.argv[1], sys.argv[2]
    a, b = strings(tree_sources(old).values()), strings(tree_sources(new).values())
    gone, added = a - b, b - a
    print(f"== string constants only in old ({sum(gone.values())}):")
    for s in sorted(gone, key=repr):
        print("  -", repr(s), f"x{gone[s]}" if gone[s] > 1 else "")
    print(f"== string constants only in new ({sum(added.values())}):")
    for s in sorted(added, key=repr):
        print("  +", repr(s), f"x{added[s]}" if added[s] > 1 else "")
    for sub, suf in (("wsdl", ".wsdl"), ("xsd", ".xsd")):
        x, y = tree_sources(old, sub, suf), tree_sources(new, sub, suf)
        diff = [f for f in sorted(set(x) | set(y)) if x.get(f) != y.get(f)]
        print(f"== {sub}: {'unchanged' if not diff else 'DIFFERENT: ' + ', '.join(diff)} ({len(x)} files)")


if __name__ == "__main__":
    main()
