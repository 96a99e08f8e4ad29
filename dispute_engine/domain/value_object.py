"""The base of every validated value: frozen, strict about extra fields, typed errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from dispute_engine.domain.errors import InvalidInput


class FieldError(ValueError):
    """Raised by a model-level validator to blame one field of the model."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def invalid_input(error: ValidationError) -> InvalidInput:
    """Pydantic's errors as one InvalidInput naming each field by its dotted path."""
    problems: list[dict[str, str]] = []
    for item in error.errors(include_url=False):
        loc = [str(p) for p in item["loc"]]
        cause = item.get("ctx", {}).get("error")
        if isinstance(cause, FieldError):
            loc.append(cause.field)
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append({"field": ".".join(loc) or "input", "message": message})
    return InvalidInput(problems)


if TYPE_CHECKING:
    from pydantic._internal._model_construction import ModelMetaclass
else:
    ModelMetaclass = type(BaseModel)  # pydantic's, not exported under a public name


class _Validating(ModelMetaclass):
    """Builds a value object from keywords, its validation errors as :class:`InvalidInput`.

    In the metaclass rather than an ``__init__``: pydantic runs a model's own ``__init__``
    for every validation, without the ``strict`` a caller asked of ``model_validate``.
    """

    def __call__(self, **data: Any) -> Any:
        try:
            return super().__call__(**data)
        except ValidationError as exc:
            raise invalid_input(exc) from None


class ValueObject(BaseModel, metaclass=_Validating):
    """A frozen pydantic model whose validation errors are :class:`InvalidInput`."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        extra: Any = None,
        from_attributes: bool | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """Validate a mapping or object; errors are :class:`InvalidInput`."""
        try:
            return super().model_validate(
                obj,
                strict=strict,
                extra=extra,
                from_attributes=from_attributes,
                context=context,
                by_alias=by_alias,
                by_name=by_name,
            )
        except ValidationError as exc:
            raise invalid_input(exc) from None

    @classmethod
    def model_validate_json(
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        extra: Any = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """Validate JSON text; errors are :class:`InvalidInput`."""
        try:
            return super().model_validate_json(
                json_data,
                strict=strict,
                extra=extra,
                context=context,
                by_alias=by_alias,
                by_name=by_name,
            )
        except ValidationError as exc:
            raise invalid_input(exc) from None
