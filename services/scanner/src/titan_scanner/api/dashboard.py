"""The dashboard page at `/`: one static HTML file, no build step."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def dashboard() -> HTMLResponse:
    page = resources.files("titan_scanner.dashboard").joinpath("index.html").read_text()
    return HTMLResponse(page, headers={"cache-control": "no-cache"})
