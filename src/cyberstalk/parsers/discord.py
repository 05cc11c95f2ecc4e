"""Discord data package: ``messages/c<channel id>/messages.json``.

The package (User Settings → Data & Privacy → Request all of my data) holds one folder per
channel under ``messages/``, each with ``channel.json`` (id, type, recipients or the
server and channel name) and ``messages.json``::

    [{"ID": 1203..., "Timestamp": "2026-02-05 21:10:33", "Contents": "...",
      "Attachments": "https://cdn.discordapp.com/... https://..."}]

**Only the requester's own messages are in it.** In a stalking case the victim's package
shows what *she* wrote, never what the suspect sent; the suspect's side needs a request to
Discord. Every record therefore has the account holder as sender.

- The sender is the account's ``username`` from ``account/user.json`` two folders up
  when that file is beside the export, else the parser option ``account``, else
  ``account holder``.
- ``channel.json`` beside the file gives the conversation name and recipient ids (the
  account's own id removed).
- Times without an offset are read in ``--tz`` / the case zone / Europe/London and
  flagged at clock changes; times with an offset are used as written.
- The older ``messages.csv`` layout is left to the generic CSV parser.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

from cyberstalk.parsers import jsonload, sidefiles
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import register
from cyberstalk.parsers.sidefiles import read_side_json, side_file
from cyberstalk.records import Attachment, Locator, Record, RecordKind, TzBasis
from cyberstalk.records.times import localise

_HANDLED = frozenset({"ID", "Timestamp", "Contents", "Attachments"})
DEFAULT_ACCOUNT = "account holder"


def parse_time(raw: Any, ctx: ParseContext) -> tuple[datetime | None, TzBasis, frozenset[str]]:
    """A Discord timestamp string as (UTC time, basis, DST flags)."""
    if not isinstance(raw, str):
        return None, TzBasis.UNKNOWN, frozenset()
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None, TzBasis.UNKNOWN, frozenset()
    if parsed.tzinfo is not None:
        return parsed, TzBasis.EXPLICIT_OFFSET, frozenset()
    when, flags = localise(parsed, ctx.zone.zone)
    return when, ctx.zone.basis, flags


@register
class DiscordParser:
    """Discord data-package channel messages (the requester's own messages only)."""

    name: ClassVar[str] = "discord"
    version: ClassVar[str] = "1.0.0"
    platform: ClassVar[str] = "discord"
    description: ClassVar[str] = (
        "Discord data package channel messages (messages/c<id>/messages.json)"
    )
    known_gaps: ClassVar[tuple[str, ...]] = (
        "Only the requester's own messages are exported: messages the other party sent "
        "are not in the package.",
        "Deleted messages, edits and reactions are not exported.",
        "Attachments are CDN links, not files; the links expire.",
        "Timestamps are written without a zone (Discord is believed to write UTC); they are "
        "read in the case zone unless --tz says otherwise.",
    )

    def sniff(self, source: Source) -> float:
        text = jsonload.head_text(source).lstrip()
        if not text.startswith("["):
            return 0.0
        keys = ('"ID"', '"Timestamp"', '"Contents"')
        if text.strip() == "[]" and source.name.endswith("messages.json"):
            return 0.55
        if all(k in text[:4096] for k in keys):
            return 0.9 if source.name.endswith("messages.json") else 0.8
        return 0.0

    def parse(self, source: Source, ctx: ParseContext, report: ParseReport) -> Iterator[Record]:
        loaded = jsonload.load(source, ctx, depth=1)
        items = jsonload.top_level(
            loaded,
            source,
            list,
            expected="a JSON array of messages",
            advice="this is not a Discord messages.json file",
        )
        account, account_id = self._account(source, ctx)
        conversation, recipients, channel_extra = self._channel(source, account_id)
        emitted = 0
        for index, item in enumerate(items):
            position = f"$[{index}]"
            if not isinstance(item, dict):
                report.skip(position, f"not a JSON object ({type(item).__name__})")
                continue
            yield self._record(
                item,
                position,
                source,
                ctx,
                report,
                account,
                recipients,
                conversation,
                channel_extra,
            )
            emitted += 1
        if loaded.fault is not None:
            raise loaded.fault.error(source, emitted)

    def _account(self, source: Source, ctx: ParseContext) -> tuple[str, str | None]:
        user = read_side_json(side_file(source, "../../account/user.json"))
        if user and isinstance(user.get("username"), str):
            user_id = user.get("id")
            return user["username"], str(user_id) if user_id is not None else None
        return ctx.options.get("account", DEFAULT_ACCOUNT), ctx.options.get("account_id")

    def _channel(
        self, source: Source, account_id: str | None
    ) -> tuple[str | None, tuple[str, ...], dict[str, Any]]:
        channel = read_side_json(side_file(source, "channel.json"))
        own = sidefiles.original_paths(source)
        folder = posixpath.basename(posixpath.dirname(own[0])) if own else ""
        default = folder if folder.startswith("c") and folder[1:].isdigit() else None
        if channel is None:
            return default, (), {}
        extra: dict[str, Any] = {"channel": channel}
        name = channel.get("name")
        guild = channel.get("guild")
        if isinstance(guild, dict) and isinstance(guild.get("name"), str):
            name = f"{guild['name']} #{name}" if name else guild["name"]
        recipients = tuple(
            str(r) for r in channel.get("recipients") or [] if str(r) != (account_id or "")
        )
        conversation = name if isinstance(name, str) else str(channel.get("id") or default)
        return conversation, recipients, extra

    def _record(
        self,
        item: Mapping[str, Any],
        position: str,
        source: Source,
        ctx: ParseContext,
        report: ParseReport,
        account: str,
        recipients: tuple[str, ...],
        conversation: str | None,
        channel_extra: dict[str, Any],
    ) -> Record:
        raw = item.get("Timestamp")
        when, basis, flags = parse_time(raw, ctx)
        if when is None:
            report.warnings.append(
                f"{source.name} {position}: timestamp {raw!r} unreadable; record kept "
                "without a time"
            )
        text = item.get("Contents")
        text = text if isinstance(text, str) else ""
        links = report.shaped(
            item.get("Attachments"),
            (str, list, dict),
            f"{source.name} {position}.Attachments",
            expected="text or an array",
            outcome="no attachments read",
        )
        names = (
            links.split()
            if isinstance(links, str)
            else [str(x) for x in links or [] if isinstance(x, str)]
        )
        attachments = tuple(Attachment(name=n) for n in names)
        extra: dict[str, Any] = {"id": item.get("ID"), **channel_extra}
        for key in sorted(set(item) - _HANDLED):
            extra[key] = item[key]
        return Record(
            kind=RecordKind.MEDIA if attachments and not text else RecordKind.MESSAGE,
            platform=self.platform,
            time_utc=when,
            time_raw=raw if isinstance(raw, str) else "" if raw is None else str(raw),
            tz_basis=basis,
            locator=Locator(exhibit=source.exhibit, path=source.name, json_path=position),
            parser=self.name,
            parser_version=self.version,
            sender=account,
            recipients=recipients,
            text=text,
            attachments=attachments,
            flags=flags,
            subtype="outgoing",
            conversation=conversation,
            extra=extra,
        )
