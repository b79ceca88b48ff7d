# Sourced by scripts/_venv.sh: choose the Python for the venv; sets PYTHON, VVA_VENV and _vva_choice (the
# line saying which Python and why).
#
# Supported: CPython 3.11, 3.12 and 3.13 (pyproject.toml's requires-python). The choice, first match:
#   1. PYTHON=/path/to/python (or a name on PATH): that one, which must be a supported version;
#   2. an existing venv ($VVA_VENV, default .venv) with a supported Python: kept as it is, so the same
#      checkout does not switch interpreters between runs (a running demo and the tests share it);
#   3. the newest supported Python found: python3.13, python3.12, python3.11 on PATH, then the same
#      versions installed under pyenv ($PYENV_ROOT/versions/3.1x.*), which its shims do not expose
#      unless selected.
# PYTHON naming another minor version than the existing venv's rebuilds that venv (pip installs into a
# venv for one interpreter only); a venv whose interpreter is gone or unsupported is rebuilt as well.

VVA_VENV="${VVA_VENV:-.venv}"
_vva_supported="3.13 3.12 3.11"

# The "3.x" of a Python that runs, or nothing (a pyenv shim for a version not selected does not run).
# Always succeeds: scripts/test runs under `set -e`, where `x="$(_vva_minor ...)"` failing would end it
# silently before the pyenv lookup below.
_vva_minor() {
    "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true
}

_vva_is_supported() {
    case " $_vva_supported " in *" $1 "*) [ -n "$1" ] ;; *) false ;; esac
}

# python3.x on PATH if it runs, else the newest 3.x.* under pyenv; nothing when neither runs.
_vva_find() {
    if [ "$(_vva_minor "python$1")" = "$1" ]; then
        command -v "python$1"
        return 0
    fi
    # Newest patch release first: 3.13.10 before 3.13.9 (numeric sort on the last dotted part).
    for _p in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$1".* 2>/dev/null \
        | awk -F. '{print $NF, $0}' | sort -k1,1nr | cut -d' ' -f2-); do
        if [ "$(_vva_minor "$_p/bin/python$1")" = "$1" ]; then
            echo "$_p/bin/python$1"
            return 0
        fi
    done
    return 1
}

_vva_find_newest() {
    for _v in $_vva_supported; do
        _vva_find "$_v" && return 0
    done
    return 1
}

_vva_venv_minor=""
if [ -x "$VVA_VENV/bin/python" ]; then
    _vva_venv_minor="$(_vva_minor "$VVA_VENV/bin/python")"
fi

if [ -n "${PYTHON:-}" ]; then
    _vva_want="$(_vva_minor "$PYTHON")"
    case "$PYTHON" in
    python3.1[1-3])  # a name whose pyenv shim does not run (version not selected): look under pyenv
        if [ -z "$_vva_want" ] && _vva_found="$(_vva_find "${PYTHON#python}")"; then
            PYTHON="$_vva_found"
            _vva_want="$(_vva_minor "$PYTHON")"
        fi
        ;;
    esac
    if [ -z "$_vva_want" ]; then
        echo "PYTHON=$PYTHON does not run; supported are Python $_vva_supported (e.g. PYTHON=python3.13)" >&2
        exit 1
    fi
    if ! _vva_is_supported "$_vva_want"; then
        echo "PYTHON=$PYTHON is Python $_vva_want; supported are Python $_vva_supported" >&2
        exit 1
    fi
    _vva_why="PYTHON=$PYTHON"
elif _vva_is_supported "$_vva_venv_minor"; then
    PYTHON="$VVA_VENV/bin/python"
    _vva_want="$_vva_venv_minor"
    _vva_why="the Python $VVA_VENV was built with; PYTHON=python3.x rebuilds it with another"
elif PYTHON="$(_vva_find_newest)"; then
    _vva_want="$(_vva_minor "$PYTHON")"
    _vva_why="the newest supported Python found"
else
    echo "No supported Python found (3.13, 3.12 or 3.11); install one or set PYTHON=/path/to/python3.x" >&2
    exit 1
fi
# Said (by scripts/_venv.sh) when the venv is made or installed into, not on every run: a demo that
# fails should print its one line of error (tests/e2e/test_operator_output.py).
_vva_choice="Using Python $("$PYTHON" -c 'import platform; print(platform.python_version())') for $VVA_VENV ($_vva_why)"
