"""Query pieces shared by the repositories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import TypeEngine


def array_param(
    name: str, values: Sequence[Any], item_type: type[TypeEngine[Any]]
) -> BindParameter[Any]:
    """``values`` as one array parameter, for ``column == any_(...)``: a statement of the same
    text whatever the count (``IN`` renders one parameter per value, and is compiled per count)."""
    return bindparam(name, list(values), type_=ARRAY(item_type))
