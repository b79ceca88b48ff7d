"""Make the released spyne 2.14.0 (our SOAP server) import on Python 3.12 and 3.13.

``broker/__init__.py`` imports this module before anything else, so it runs on every path that imports
the broker (server, receiver, client, CLI, tests, benchmarks) and before the first ``import spyne``.

What it patches, and why
------------------------
1. spyne vendors six 1.14 as ``spyne.util.six``. Its import hook for ``spyne.util.six.moves.*``
   (``_SixMetaPathImporter``, appended to ``sys.meta_path`` when ``spyne.util.six`` runs) only speaks the
   old import protocol, ``find_module``/``load_module``, which Python 3.12 stopped calling: on 3.12+
   ``import spyne`` fails at ``from spyne.util.six.moves.collections_abc import MutableSet`` with
   ``No module named 'spyne.util.six.moves'``. On 3.11 it still works, with an ImportWarning per import.
   This module gives that class the current protocol, ``find_spec``, ``create_module`` and
   ``exec_module``, the way six 1.16 did for its own importer, answering with the very objects its
   ``load_module`` returns. One difference from six 1.16: the import system writes the spec it was
   given onto the module ``create_module`` returns, which for a moved standard module (``moves.
   collections_abc`` is ``collections.abc`` itself) would rename that module's ``__spec__``;
   ``exec_module`` puts the module's own spec back, as the old protocol left it.

   The class cannot be patched before it exists, and importing ``spyne.util.six`` first runs
   ``spyne/__init__.py``, which already needs the moves. So the patch is applied as soon as the class
   exists: a finder put first on ``sys.meta_path`` here, before spyne is imported, finds nothing itself
   but patches the class on the first module lookup after ``spyne.util.six`` has defined it, which is
   before the import system ever asks that importer anything (it comes last on ``sys.meta_path``).
   It patches only a class that has no ``find_spec`` of its own, so a spyne whose six already speaks
   the current protocol is left alone. The same on every supported Python (3.11 too), so the server
   behaves the same on each.

2. spyne imports the standard library's ``cgi`` module, removed in Python 3.13. The ``legacy-cgi``
   package (a dependency on 3.13+, ``pyproject.toml``) provides it; without it this module says so
   instead of spyne failing on a bare ``No module named 'cgi'``. On 3.11 and 3.12 ``cgi`` is imported
   here with its DeprecationWarning (about spyne's use, not ours) silenced, so spyne's own import of it
   finds the module already loaded and the warning does not reach operators or the test run.

When it can be deleted
----------------------
When a spyne release imports on every Python in ``requires-python`` without it (arskom/spyne fixed
both on master, issues #700/#701 and #712/#713, unreleased as of 2.14.0): pin that release, delete this
module and its import in ``broker/__init__.py``, and ``tests/test_spyne_compat.py`` with it. The test
of that module also shows which part is still needed: it checks that ``find_spec`` is the one added here.
"""

from __future__ import annotations

import sys
import warnings
from importlib.util import spec_from_loader

_SIX = "spyne.util.six"


def _find_spec(self, fullname, path=None, target=None):
    """The six importer's ``find_spec``: a spec with this importer as loader for a name it knows."""
    if fullname in self.known_modules:
        return spec_from_loader(fullname, self)
    return None


def _create_module(self, spec):
    """The module ``load_module`` gives for the name (a lazy six module or the moved module itself),
    remembering the moved module's own spec for ``exec_module`` in ``spec.loader_state``."""
    module = self.load_module(spec.name)
    spec.loader_state = getattr(module, "__spec__", None)
    return module


def _exec_module(self, module):
    """Nothing to execute (``load_module`` did it all); restore the moved module's own ``__spec__``,
    which the import system replaced with the ``spyne.util.six.moves.*`` spec."""
    spec = module.__spec__
    own = getattr(spec, "loader_state", None)
    if own is not None and own is not spec:
        module.__spec__ = own


def patch_six_importer(six_module) -> bool:
    """Give the ``_SixMetaPathImporter`` class of ``six_module`` (``spyne.util.six``) the current import
    protocol; True when it was patched now, False when there was nothing to do."""
    cls = getattr(six_module, "_SixMetaPathImporter", None)
    if cls is None or "find_spec" in vars(cls):
        return False
    cls.find_spec = _find_spec
    cls.create_module = _create_module
    cls.exec_module = _exec_module
    return True


class _SpyneSixFinder:
    """First on ``sys.meta_path``: on the first lookup of any module once ``spyne.util.six`` has defined
    its importer class, patches that class, then lets the import go on (it finds nothing itself). Any
    lookup, not only of ``spyne.util.six.*``: the six importer is asked about every name the finders
    before it do not find (``spyne.util`` imports ``thread`` first), which on 3.11 warns when it lacks
    ``find_spec``."""

    def __init__(self):
        self._patched = None  # the spyne.util.six module whose class has the current protocol

    def find_spec(self, fullname, path=None, target=None):
        six_module = sys.modules.get(_SIX)
        if six_module is not None and six_module is not self._patched:
            if getattr(six_module, "_SixMetaPathImporter", None) is not None:  # not while six is
                patch_six_importer(six_module)  # still running above its class definition
                self._patched = six_module
        return None


def _install() -> None:
    if not any(isinstance(finder, _SpyneSixFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SpyneSixFinder())
    if _SIX in sys.modules:  # spyne was imported before us (possible on 3.11 only): patch it now
        patch_six_importer(sys.modules[_SIX])

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="'cgi' is deprecated", category=DeprecationWarning)
            import cgi  # noqa: F401
    except ModuleNotFoundError as error:
        raise ImportError(
            "spyne 2.14 imports the cgi module, which Python 3.13 removed: install legacy-cgi "
            "(pip install legacy-cgi; vva-broker requires it on 3.13)"
        ) from error


_install()
