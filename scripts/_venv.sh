# Sourced by scripts/demo and scripts/test: make sure the venv ($VVA_VENV, default .venv) exists with this
# checkout installed, on the Python scripts/_python.sh picks; which one is printed whenever the venv is
# made, rebuilt or installed into (`"$VVA_VENV"/bin/python -V` tells at any time).
. scripts/_python.sh
if [ -n "$_vva_venv_minor" ] && [ "$_vva_venv_minor" != "$_vva_want" ]; then
    if [ ! -f "$VVA_VENV/pyvenv.cfg" ]; then
        echo "$VVA_VENV is Python $_vva_venv_minor but not a venv this script made; remove it or set VVA_VENV" >&2
        exit 1
    fi
    echo "$_vva_choice" >&2
    echo "Rebuilding $VVA_VENV: it was Python $_vva_venv_minor, now Python $_vva_want" >&2
    "$PYTHON" -m venv --clear "$VVA_VENV"
    _vva_said=1
elif [ -z "$_vva_venv_minor" ] && [ -f "$VVA_VENV/pyvenv.cfg" ]; then
    echo "$_vva_choice" >&2
    echo "Rebuilding $VVA_VENV: its Python no longer runs or is not supported" >&2
    "$PYTHON" -m venv --clear "$VVA_VENV"
    _vva_said=1
elif [ ! -x "$VVA_VENV/bin/python" ]; then
    echo "$_vva_choice" >&2
    "$PYTHON" -m venv "$VVA_VENV"
    _vva_said=1
fi
stamp="$VVA_VENV/.installed-$(cat pyproject.toml | cksum | cut -d' ' -f1)"
if [ ! -f "$stamp" ]; then
    [ -n "${_vva_said:-}" ] || echo "$_vva_choice" >&2
    echo "Installing vva-broker and its dependencies into $VVA_VENV (first run only, about a minute)..." >&2
    "$VVA_VENV/bin/python" -m pip install --quiet --upgrade pip
    # Wheels only (spyne 2.14.0 is published as source only), so lxml and xmlsec come as the wheels
    # that bundle the same libxml2 (tests/edukoppeling/test_contract.py checks it) on every Python.
    "$VVA_VENV/bin/python" -m pip install --quiet --only-binary :all: --no-binary spyne -e '.[test]'
    rm -f "$VVA_VENV"/.installed-*
    touch "$stamp"
fi
