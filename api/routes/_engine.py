"""Calling the analytic engines in ``queries/`` lazily, and shaping their results.

The engines are imported when first called, so the API starts (and answers a
clear 501 problem) before an engine module is installed, and picks it up
without a change here once it is. Every engine a member can reach takes a
``viewer`` (``principal.viewer``) and builds its result from what that viewer
may see (``graph.confidentiality``).
"""

from __future__ import annotations

import importlib
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from coopgraph.api.problems import NotImplementedYet

__all__ = ["engine", "engine_or_none", "result_response"]


def engine(module: str, name: str) -> Any:
    """``module.name``, or :class:`NotImplementedYet` when the module is not there yet."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module.startswith(exc.name):
            raise NotImplementedYet(f"{module} is not available in this installation yet") from None
        raise
    function = getattr(mod, name, None)
    if function is None:
        raise NotImplementedYet(f"{module}.{name} is not available in this installation yet")
    return function


def engine_or_none(module: str, name: str) -> Any:
    """``module.name``, or ``None`` when the module or the name is not there (an optional hook)."""
    try:
        return engine(module, name)
    except NotImplementedYet:
        return None


def _dump(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if isinstance(result, list | tuple):
        return [_dump(r) for r in result]
    return jsonable_encoder(result)


def result_response(result: Any) -> Response:
    """An engine result as JSON.

    Nothing is redacted here: the engines build a member's result from what it
    may see (they take the caller's :class:`~graph.confidentiality.Viewer`).
    """
    if isinstance(result, BaseModel):
        return Response(result.model_dump_json(), media_type="application/json")
    return JSONResponse(_dump(result))
