"""Ingest: read the files people have, validate, resolve entities, load into a store."""
