"""Which folders of the repository become which installed packages.

Everything else about the build is in pyproject.toml; this file only lists the
packages, because setuptools cannot find packages under a prefix by itself.

The repository keeps ``graph/ ingest/ queries/ api/`` at its root. With
``NAMESPACE = "coopgraph"`` they install as ``coopgraph.graph``, ``coopgraph.ingest``…
(``package_dir`` maps each installed name onto its folder), so that no other
distribution's ``api`` or ``graph`` module can shadow ours, or ours theirs. ``data/``
installs as ``coopgraph.data`` (the sample cluster, package data) and ``coopgraph/``
holds the version and ``python -m coopgraph``. Subpackages are found, not listed, so
a new folder with an ``__init__.py`` is packaged without touching this file.
"""

from setuptools import find_packages, setup

# The namespace the four folders install under; "" installs them as top-level
# packages (the layout before the namespace rewrite, /work/ns_rewrite.py).
NAMESPACE = "coopgraph"
FOLDERS = ("graph", "ingest", "queries", "api")


def _layout() -> tuple[list[str], dict[str, str]]:
    found = find_packages(include=[*FOLDERS, *(f"{folder}.*" for folder in FOLDERS)])
    # data/sample has no __init__.py: listed so that its CSVs are package data
    packages = ["coopgraph", "coopgraph.data", "coopgraph.data.sample"]
    package_dir = {"coopgraph": "coopgraph", "coopgraph.data": "data"}
    if NAMESPACE:
        packages += [f"{NAMESPACE}.{name}" for name in found]
        package_dir.update({f"{NAMESPACE}.{folder}": folder for folder in FOLDERS})
    else:
        packages += found
    return sorted(packages), package_dir


PACKAGES, PACKAGE_DIR = _layout()
setup(packages=PACKAGES, package_dir=PACKAGE_DIR)
