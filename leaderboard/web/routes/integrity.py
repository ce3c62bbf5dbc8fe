"""The instructor's integrity page of a competition: ``/admin/c/SLUG/integrity`` — teams
whose predictions agree more than their scores explain and notebook submissions that
share code (:mod:`leaderboard.integrity`), with the evidence side by side; the CSV of
each section at ``/admin/c/SLUG/integrity/<section>.csv``.  Evidence for a conversation,
never a penalty."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from markupsafe import Markup

from ...errors import DataError, NotFound
from ...integrity import CompetitionIntegrity, competition_integrity
from ...services import Service
from ..deps import PageDep, ServiceDep, require_instructor

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(require_instructor)])


@router.get("/c/{slug}/integrity")
def integrity_page(slug: str, page: PageDep, svc: ServiceDep) -> Response:
    from coursebench.integrity.figure import png
    from coursebench.integrity.html import render_body

    comp = svc.competition(slug)
    result = _integrity(svc, slug)
    body = Markup(render_body(result.report, png(result.report)))  # render_body escapes every value in it
    return page.render("admin/integrity.html", comp=comp, body=body,
                       sections=[s.key for s in result.report.sections])


@router.get("/c/{slug}/integrity/{section}.csv")
def integrity_csv(slug: str, section: str, svc: ServiceDep) -> Response:
    report = _integrity(svc, slug).report
    found = report.section(section)
    if found is None:
        raise NotFound("section of the integrity report", section, [s.key for s in report.sections])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=found.columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(found.rows)
    return Response(buffer.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{slug}-integrity-{section}.csv"'})


def _integrity(svc: Service, slug: str) -> CompetitionIntegrity:
    """The report, or a clear refusal where this web process has no private data (the
    deployment of docs/deploy.md: the report compares predictions with the hidden labels)."""
    try:
        return competition_integrity(svc, slug)
    except DataError as exc:
        raise DataError(f"the integrity report compares every team's predictions with the hidden labels, which "
                        f"this web process cannot read ({exc}); run `coursebench compete integrity {slug}` "
                        "where the course is") from None
