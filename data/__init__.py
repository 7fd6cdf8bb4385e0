"""Package data of CoopGraph: ``sample/`` is the fictional sample cluster.

Installed, this folder is ``coopgraph.data`` (see setup.py); code finds the files
through :mod:`importlib.resources`, never through a path relative to the checkout.
"""
