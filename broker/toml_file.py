"""Read an operator's TOML file (settings, client settings, party registry) with one answer for every way
reading it can fail: the file is named, and nothing reaches the operator as a traceback.

A file that is not UTF-8 (an editor on Windows saving windows-1252) makes ``tomllib`` raise
``UnicodeDecodeError``, which is no ``TOMLDecodeError``: each reader handling only the latter let such a
file end in a traceback.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from broker.errors import BrokerError


class TomlFileError(BrokerError, ValueError):
    """The file cannot be read as TOML; ``str()`` names the file and why. ``missing``: it does not exist."""

    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def read_toml(file: Path) -> dict[str, Any]:
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise TomlFileError(f"{file}: file not found", missing=True) from None
    except OSError as error:
        raise TomlFileError(f"{file}: cannot read the file ({error.strerror or error})") from None
    except tomllib.TOMLDecodeError as error:
        raise TomlFileError(f"{file}: not valid TOML: {error}") from None
    except UnicodeDecodeError:
        raise TomlFileError(f"{file}: not valid TOML: the file is not UTF-8") from None
