"""The validator's entry point, kept where the build and the tools import it from
(generator/pipeline.py, generator/resolve.py, bench/). The validator lives in generator/validation/."""

from __future__ import annotations

from .validation import MunicipalityContent, ValidContent, validate

__all__ = ["MunicipalityContent", "ValidContent", "validate"]
