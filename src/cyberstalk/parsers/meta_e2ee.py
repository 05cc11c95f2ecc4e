"""End-to-end-encrypted Messenger chats, exported from messenger.com secure storage.

Since Messenger made end-to-end encryption the default (December 2023), those chats are
missing from the main "Download Your Information" export. The account holder downloads
them separately (messenger.com → Privacy & safety → End-to-end encrypted chats → Message
storage → Download secure storage data). The result is flat ``<Name>_<n>.json`` files
plus a ``media/`` folder.

**Assumed shape** (taken from the field names RLEAPP's ``facebookE2EMessages`` artefact
reads; not yet confirmed against a real export, so the assumptions are listed in
``known_gaps`` too)::

    {"participants": ["Carys Hughes", "Dylan Price"],
     "threadName": "Dylan Price",
     "messages": [{"senderName": "Dylan Price", "timestamp": 1770000000000,
                   "text": "...", "type": "text",          # text|media|link|placeholder
                   "media": [{"uri": "media/123.jpg"}],    # or "Failed to download media"
                   "reactions": [{"actor": "Carys Hughes", "reaction": "..."}],
                   "isUnsent": false}]}

- ``timestamp`` is read as epoch milliseconds (seconds if the magnitude says so).
- The export is believed to be plain UTF-8. The same guarded Latin-1 repair as the DYI
  parser is applied anyway: it only changes a string that round-trips, so correct text is
  never altered, and Meta-style escaped text is read correctly.
- The order of ``messages`` is not documented; records carry their own times and no
  order flags are set.
- ``type: placeholder`` is taken to be a stand-in for content that could not be shown
  (it becomes a ``system`` record, subtype ``placeholder``, with its text kept).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from cyberstalk.errors import ParseError
from cyberstalk.parsers import jsonload
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.meta import AttachmentLinker, Repairer
from cyberstalk.parsers.registry import register
from cyberstalk.records import Attachment, Flag, Locator, Record, RecordKind, TzBasis
from cyberstalk.records.times import epoch_ms_or_s

FAILED_MEDIA = "Failed to download media"
_HANDLED = frozenset({"senderName", "timestamp", "text", "type", "media", "reactions", "isUnsent"})


def _time(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"timestamp {value!r} is not an integer"
    try:
        return epoch_ms_or_s(value)
    except (OverflowError, ValueError, OSError):
        return f"timestamp {value} is out of range"


@register
class MessengerE2eeParser:
    """End-to-end-encrypted Messenger chats from the secure-storage download."""

    name: ClassVar[str] = "facebook-messenger-e2ee"
    version: ClassVar[str] = "1.0.0"
    platform: ClassVar[str] = "facebook"
    description: ClassVar[str] = (
        "End-to-end-encrypted Messenger chat JSON from messenger.com secure storage "
        "(<Name>_<n>.json)"
    )
    known_gaps: ClassVar[tuple[str, ...]] = (
        "Field layout assumed from RLEAPP's reader and not yet confirmed on a real export: "
        "check a sample of records against the victim's phone.",
        "Only chats stored in the account's secure storage are included; chats on a device "
        "without secure storage (no PIN/backup) may be missing.",
        "Media that failed to download are listed as 'Failed to download media' without content.",
        "Calls, edits and deletions-for-me are not known to be recorded in this export.",
        "Unsent messages keep only the fact that something was unsent.",
    )

    def sniff(self, source: Source) -> float:
        text = jsonload.head_text(source)
        if not text.lstrip().startswith("{"):
            return 0.0
        keys = ('"threadName"', '"senderName"', '"participants"', '"messages"')
        hits = sum(key in text for key in keys)
        if hits == len(keys):
            return 0.95
        if '"threadName"' in text and '"messages"' in text:
            return 0.6
        return 0.0

    def parse(self, source: Source, ctx: ParseContext, report: ParseReport) -> Iterator[Record]:
        loaded = jsonload.load(source, ctx, depth=2)
        doc = loaded.value
        if not isinstance(doc, dict) or (
            loaded.fault is None and not isinstance(doc.get("messages"), list)
        ):
            if loaded.fault is not None:
                raise loaded.fault.error(source, 0)
            raise ParseError(
                "expected a JSON object with a 'messages' array",
                path=source.name,
                advice="this is not an end-to-end-encrypted Messenger export file",
                records_before_fault=0,
            )
        head = Repairer()
        listed = report.shaped(
            doc.get("participants"),
            list,
            f"{source.name} $.participants",
            outcome="no participants read",
        )
        participants = [fixed for p in listed or [] if (fixed := head.text(p)) is not None]
        conversation = head.text(doc.get("threadName"))
        linker = AttachmentLinker(source)
        emitted = 0
        for index, msg in enumerate(doc.get("messages") or []):
            if not isinstance(msg, dict):
                report.skip(f"$.messages[{index}]", f"not a JSON object ({type(msg).__name__})")
                continue
            yield self._record(msg, index, source, participants, conversation, linker, report)
            emitted += 1
        if loaded.fault is not None:
            raise loaded.fault.error(source, emitted)

    def _record(
        self,
        msg: Mapping[str, Any],
        index: int,
        source: Source,
        participants: list[str],
        conversation: str | None,
        linker: AttachmentLinker,
        report: ParseReport,
    ) -> Record:
        rep = Repairer()
        position = f"$.messages[{index}]"
        sender = rep.text(msg.get("senderName"))
        text = rep.text(msg.get("text")) or ""
        raw_ts = msg.get("timestamp")
        when = _time(raw_ts)
        if isinstance(when, str):
            report.warnings.append(f"{source.name} {position}: {when}; record kept without a time")
            when = None
        attachments: list[Attachment] = []
        media = report.shaped(msg.get("media"), list, f"{source.name} {position}.media")
        for item in media or []:
            uri = item.get("uri") if isinstance(item, dict) else item
            if not isinstance(uri, str):
                report.warnings.append(f"{source.name} {position}.media: item without a uri")
                continue
            attachments.append(linker.link(uri, omitted=uri == FAILED_MEDIA))
        mtype = msg.get("type")
        flags: set[str] = set()
        subtype: str | None = None
        kind = RecordKind.MESSAGE
        if mtype == "placeholder":
            kind = RecordKind.SYSTEM
            subtype = "placeholder"
        elif attachments and not text:
            kind = RecordKind.MEDIA
        if msg.get("isUnsent") is True:
            flags.add(Flag.DELETED.value)
            subtype = "unsent"
        extra: dict[str, Any] = {}
        if mtype is not None:
            extra["type"] = mtype
        if msg.get("reactions"):
            extra["reactions"] = rep.deep(msg["reactions"])
        for key in sorted(set(msg) - _HANDLED):
            extra[key] = rep.deep(msg[key])
        if rep.repaired:
            flags.add(Flag.MOJIBAKE_REPAIRED.value)
        return Record(
            kind=kind,
            platform=self.platform,
            time_utc=when,
            time_raw="" if raw_ts is None else str(raw_ts),
            tz_basis=TzBasis.EPOCH if when is not None else TzBasis.UNKNOWN,
            locator=Locator(exhibit=source.exhibit, path=source.name, json_path=position),
            parser=self.name,
            parser_version=self.version,
            sender=sender,
            recipients=tuple(p for p in participants if p != sender),
            text=text,
            attachments=tuple(attachments),
            flags=frozenset(flags),
            subtype=subtype,
            conversation=conversation,
            extra=extra,
        )
