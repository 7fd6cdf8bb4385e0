"""Where the installed files are: package data found through :mod:`importlib.resources`.

Code never builds a path from the checkout (``Path(__file__).parents[…]``): installed
from a wheel, the sample cluster is ``coopgraph/data/sample`` inside site-packages and
the dashboard's files are beside their package, wherever that was installed.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from coopgraph.graph.errors import ConfigError

__all__ = ["package_path"]


def package_path(package: str, *parts: str) -> Path:
    """The directory of ``package`` (joined with ``parts``) as a real path on disk.

    Raises
    ------
    ConfigError
        When the package is imported from an archive (its files have no path of their
        own), or the directory is missing from this installation.
    """
    root = files(package)
    if not isinstance(root, Path):
        raise ConfigError(
            f"{package} is imported from an archive ({root}); install CoopGraph as a "
            "wheel (pip install coopgraph-*.whl) so that its data files are on disk")
    path = root.joinpath(*parts)
    if not path.is_dir():
        raise ConfigError(
            f"{'/'.join((package, *parts))} is missing from this installation of CoopGraph "
            f"(looked in {path}); reinstall the package")
    return path
