"""CoopGraph's foundation: the domain model, the store interface and its two stores.

``graph`` imports none of the other top-level packages (``ingest``, ``queries``,
``api``); they all import it.
"""
