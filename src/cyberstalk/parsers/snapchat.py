"""Snapchat "My Data" ``json/chat_history.json``.

Two shapes are read:

- newer (about 2022 on): an object keyed by conversation (the friend's username, or a
  group id) whose values are lists of
  ``{"From", "Media Type", "Created": "2026-02-05 21:10:33 UTC", "Content",
  "Conversation Title", "IsSender", "Created(microseconds)", "IsSaved", "Media IDs"}``;
- older: ``{"Received Saved Chat History": [{"From", "Media Type", "Created", "Text"}],
  "Sent Saved Chat History": [{"To", ...}]}``.

``Created(microseconds)`` is preferred (epoch; despite its name the values seen are
milliseconds, so the unit is decided by magnitude), then ``Created`` with its ``UTC``
suffix. **Only saved chats are exported**: a snap or chat that was viewed and not saved is
gone, which is how Snapchat works, not a fault of the export.

The account holder is whoever sent the messages with ``IsSender: true``; received
messages name that account as recipient when it can be found this way (or from the
parser option ``account``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from cyberstalk.parsers import jsonload
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import register
from cyberstalk.records import Attachment, Locator, Record, RecordKind, TzBasis
from cyberstalk.records.times import from_epoch

OLD_RECEIVED = "Received Saved Chat History"
OLD_SENT = "Sent Saved Chat History"
_EPOCH_KEY = "Created(microseconds)"
_HANDLED = frozenset(
    {
        "From",
        "To",
        "Media Type",
        "Created",
        _EPOCH_KEY,
        "Content",
        "Text",
        "IsSender",
        "Conversation Title",
        "Media IDs",
    }
)


def snap_time(item: Mapping[str, Any]) -> tuple[datetime | None, str, TzBasis]:
    """(UTC time, raw text, basis) for one chat item."""
    epoch = item.get(_EPOCH_KEY)
    if isinstance(epoch, int) and not isinstance(epoch, bool):
        unit = "us" if abs(epoch) >= 10**14 else "ms" if abs(epoch) >= 10**11 else "s"
        try:
            return from_epoch(epoch, unit), str(epoch), TzBasis.EPOCH
        except (OverflowError, ValueError, OSError):
            pass
    raw = item.get("Created")
    if isinstance(raw, str):
        text = raw.strip()
        if text.endswith(" UTC"):
            try:
                parsed = datetime.strptime(text[:-4] + " +0000", "%Y-%m-%d %H:%M:%S %z")
            except ValueError:
                return None, raw, TzBasis.UNKNOWN
            return parsed.astimezone(UTC), raw, TzBasis.EXPLICIT_OFFSET
        return None, raw, TzBasis.UNKNOWN
    return None, "" if epoch is None else str(epoch), TzBasis.UNKNOWN


@register
class SnapchatParser:
    """Snapchat saved chats from a My Data export."""

    name: ClassVar[str] = "snapchat"
    version: ClassVar[str] = "1.0.0"
    platform: ClassVar[str] = "snapchat"
    description: ClassVar[str] = "Snapchat My Data chat history (json/chat_history.json)"
    known_gaps: ClassVar[tuple[str, ...]] = (
        "Only saved chats are exported: chats and snaps that were viewed and not saved are "
        "not in the file.",
        "Snaps and media are not included in chat_history.json (at most their Media IDs).",
        "Messages the other person deleted ('unsaved' or cleared) are gone.",
        "In the older layout the account holder's own username is not written.",
    )

    def sniff(self, source: Source) -> float:
        text = jsonload.head_text(source)
        if not text.lstrip().startswith("{"):
            return 0.0
        if OLD_RECEIVED in text or OLD_SENT in text:
            return 0.95
        if '"Media Type"' in text and '"Created"' in text and '"From"' in text:
            return 0.9 if source.name.endswith("chat_history.json") else 0.8
        # An export with no saved chats holds no keys to recognise: trust the file name.
        return 0.55 if source.name.endswith("chat_history.json") else 0.0

    def parse(self, source: Source, ctx: ParseContext, report: ParseReport) -> Iterator[Record]:
        loaded = jsonload.load(source, ctx, depth=2)
        doc = jsonload.top_level(
            loaded,
            source,
            dict,
            expected="a JSON object of conversations",
            advice="this is not a Snapchat chat_history.json file",
        )
        account = ctx.options.get("account")
        if account is None:
            account = next(
                (
                    item["From"]
                    for items in doc.values()
                    if isinstance(items, list)
                    for item in items
                    if isinstance(item, dict)
                    and item.get("IsSender") is True
                    and isinstance(item.get("From"), str)
                ),
                None,
            )
        emitted = 0
        for key, items in doc.items():
            path = f"$[{jsonload_key(key)}]"
            if not isinstance(items, list):
                report.skip(path, f"not a list of chat items ({type(items).__name__})")
                continue
            for index, item in enumerate(items):
                position = f"{path}[{index}]"
                if not isinstance(item, dict):
                    report.skip(position, f"not a JSON object ({type(item).__name__})")
                    continue
                yield self._record(key, item, position, source, report, account)
                emitted += 1
        if loaded.fault is not None:
            raise loaded.fault.error(source, emitted)

    def _record(
        self,
        key: str,
        item: Mapping[str, Any],
        position: str,
        source: Source,
        report: ParseReport,
        account: str | None,
    ) -> Record:
        when, raw, basis = snap_time(item)
        if when is None:
            report.warnings.append(
                f"{source.name} {position}: time {raw!r} unreadable; record kept without a time"
            )
        title = item.get("Conversation Title")
        group = isinstance(title, str) and bool(title)
        sender: str | None
        recipients: tuple[str, ...]
        if key == OLD_SENT:
            sender = account
            to = item.get("To")
            recipients = (to,) if isinstance(to, str) else ()
            outgoing: bool | None = True
        elif key == OLD_RECEIVED:
            sender = item.get("From") if isinstance(item.get("From"), str) else None
            recipients = (account,) if account else ()
            outgoing = False
        else:
            sender = item.get("From") if isinstance(item.get("From"), str) else None
            is_sender = item.get("IsSender")
            outgoing = is_sender if isinstance(is_sender, bool) else None
            if group:
                recipients = ()
            elif outgoing:
                recipients = (key,)
            else:
                recipients = (account,) if account else ()
        content = item.get("Content", item.get("Text"))
        text = content if isinstance(content, str) else ""
        media_type = item.get("Media Type")
        attachments: tuple[Attachment, ...] = ()
        kind = RecordKind.MESSAGE
        if isinstance(media_type, str) and media_type.upper() not in ("TEXT", ""):
            ids = item.get("Media IDs")
            names = [s for s in str(ids).split(" | ") if s] if ids else []
            attachments = tuple(
                Attachment(name=n, omitted=True) for n in (names or [media_type.lower()])
            )
            if not text:
                kind = RecordKind.MEDIA
        extra: dict[str, Any] = {"media_type": media_type}
        for extra_key in sorted(set(item) - _HANDLED):
            extra[extra_key] = item[extra_key]
        if item.get("Media IDs"):
            extra["media_ids"] = item["Media IDs"]
        return Record(
            kind=kind,
            platform=self.platform,
            time_utc=when,
            time_raw=raw,
            tz_basis=basis,
            locator=Locator(exhibit=source.exhibit, path=source.name, json_path=position),
            parser=self.name,
            parser_version=self.version,
            sender=sender,
            recipients=recipients,
            text=text,
            attachments=attachments,
            subtype=None if outgoing is None else "outgoing" if outgoing else "incoming",
            conversation=title if group else _other_party(key, sender, recipients),
            extra=extra,
        )


def _other_party(key: str, sender: str | None, recipients: tuple[str, ...]) -> str | None:
    if key == OLD_SENT:
        return recipients[0] if recipients else None
    if key == OLD_RECEIVED:
        return sender
    return key


def jsonload_key(key: str) -> str:
    """A JSON-path member selector for an arbitrary key (``'name'`` quoted)."""
    return "'" + key.replace("\\", "\\\\").replace("'", "\\'") + "'"
