"""Base classes of every request and response model."""

from __future__ import annotations

import enum
import typing
import uuid
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails, PydanticCustomError

NUL = "\x00"
_NOT_TEXT: tuple[type, ...] = (bool, int, float, Decimal, uuid.UUID, date, datetime, time, timedelta, enum.Enum)


def nul_at(value: Any) -> tuple[int | str, ...] | None:
    """Where a value holds the NUL character in a text, at any depth of its lists and dicts (keys too): ``()`` for
    the value itself, the indexes and keys down to it, or None.

    A nested model is not searched: it checked its own fields when it was made."""
    if isinstance(value, str):
        return () if NUL in value else None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if (inner := nul_at(item)) is not None:
                return (index, *inner)
    elif isinstance(value, set | frozenset):
        return () if any(nul_at(item) is not None for item in value) else None
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if nul_at(key) is not None:
                return ()
            if (inner := nul_at(item)) is not None:
                return (str(key), *inner)
    return None


def may_hold_text(annotation: Any) -> bool:
    """Whether a field of this type may hold a text: anything but numbers, dates, identifiers, enumerations,
    literals and models (which check their own fields), and containers of those. Unknown types may."""
    if annotation is None or annotation is type(None) or annotation is Ellipsis:
        return False
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return may_hold_text(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return any(isinstance(choice, str) and NUL in choice for choice in typing.get_args(annotation))
    if origin is not None:  # unions, list[...], dict[...], tuple[...]
        arguments = typing.get_args(annotation)
        return not arguments or any(may_hold_text(argument) for argument in arguments)
    return not (isinstance(annotation, type) and issubclass(annotation, (BaseModel, *_NOT_TEXT)))


class ApiModel(BaseModel):
    """A JSON document of the API: lowerCamelCase on the wire, unknown fields refused (``unknownInput``), no NUL
    character in any text (PostgreSQL's text and jsonb cannot hold it: a ``schemaViolation`` naming the field, its
    value never repeated)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        ser_json_timedelta="iso8601",
    )

    _text_fields: ClassVar[tuple[tuple[str, str], ...]] = ()
    """The fields that may hold a text, with their name on the wire (computed once per class)."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._text_fields = tuple(
            (name, field.validation_alias if isinstance(field.validation_alias, str) else field.alias or name)
            for name, field in cls.model_fields.items()
            if may_hold_text(field.annotation)
        )

    # One check per model, of the fields that may hold a text only: a validator per field costs a call per field
    # of every model made, answers included (it made a dossier's answer model 2.5 times slower to build).
    @model_validator(mode="after")
    def _no_nul_character(self) -> Self:
        values = self.__dict__
        for name, wire in self._text_fields:
            value = values[name]
            if value.__class__ is str and NUL not in value:  # the common case, without a call
                continue
            inner = nul_at(value)
            if inner is not None:
                error = PydanticCustomError("nul_character", "Text cannot contain the NUL character")
                details = InitErrorDetails(type=error, loc=(wire, *inner), input="")
                raise ValidationError.from_exception_data(type(self).__name__, [details])
        return self
