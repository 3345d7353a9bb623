"""The figures as the page, the API and the Excel file show them: one rate rule, one
rounding, one text for every number, so the three never disagree."""

from decimal import Decimal

from .models import AssessmentRow
from .selectors import DRILL_KIND


def rate(part: int, whole: int | None) -> float | None:
    """part ÷ whole to four places (0.8571); None when nothing was due."""
    if not whole:
        return None
    return round(part / whole, 4)


def percent_text(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def score_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def cell(row: AssessmentRow, metric) -> dict:
    default = [0, None] if metric.is_count else [0, 0]
    part, whole = row.figures.get(metric.code, default)
    if metric.is_count:
        return {"code": metric.code, "part": part, "whole": None, "rate": None,
                "text": str(part), "parts": ""}  # fmt: skip
    value = rate(part, whole)
    return {
        "code": metric.code,
        "part": part,
        "whole": whole,
        "rate": value,
        "text": percent_text(value),
        "parts": f"{part}/{whole}",
    }


def row_view(row: AssessmentRow, metrics_) -> dict:
    return {
        "kind": row.kind,
        "unit_id": row.unit_id,
        "name": row.name,
        "place": row.place,
        "district_id": row.district_id,
        "street_id": row.street_id,
        "community_id": row.community_id,
        "volume": row.volume,
        "band": row.band,
        "score": row.score,
        "score_text": score_text(row.score),
        "rank": row.rank,
        "ranked_among": row.ranked_among,
        "rank_text": f"{row.rank}/{row.ranked_among}" if row.rank else "—",
        "cells": [cell(row, m) for m in metrics_],
        "drill_kind": DRILL_KIND.get(row.kind),
        "trend": getattr(row, "trend", None),
    }
