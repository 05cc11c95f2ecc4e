"""``cyberstalk search DIR TEXT``: find words in messages and screenshot text alike."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cyberstalk.case import open_case
from cyberstalk.commands._options import json_option
from cyberstalk.commands._output import err, handle_errors


def register(app: typer.Typer) -> None:
    @app.command("search")
    @handle_errors
    def search_cmd(
        directory: Path = typer.Argument(..., help="Case folder."),
        text: list[str] = typer.Argument(
            ...,
            help="Words to find (all must appear, any order; accents optional; "
            "end a word with * to match its prefix).",
        ),
        as_json: bool = json_option(),
        limit: int = typer.Option(100, "--limit", min=1, help="At most this many results."),
    ) -> None:
        """Search every parsed message and all OCR text of the case (index in
        derived/search.sqlite, rebuilt when derived/ changes). Prints time (UTC), where
        it is (exhibit and locator), sender and a snippet with the hits in [brackets]."""
        from cyberstalk.media.search import search  # heavy: only when run

        case = open_case(directory)
        hits, rebuilt = search(case.derived_dir, " ".join(text), limit=limit)
        if rebuilt:
            err("search index rebuilt from derived/")
        if as_json:
            typer.echo(json.dumps([h.as_dict() for h in hits], indent=2, ensure_ascii=False))
            return
        if not hits:
            err("no matches")
            return
        for h in hits:
            when = h.time_utc or "(no time)"
            who = f"{h.sender}: " if h.sender else ""
            snippet = " ".join(h.snippet.split())
            typer.echo(f"{when}  {h.locator}  [{h.kind}/{h.platform}]  {who}{snippet}")
        if len(hits) == limit:
            err(f"showing the first {limit} results; use --limit for more")
