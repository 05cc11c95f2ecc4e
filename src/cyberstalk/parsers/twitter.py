"""X (Twitter) archive direct messages: ``data/direct-messages.js`` and ``-group.js``.

The archive writes JavaScript, not JSON: ``window.YTD.direct_messages.part0 = [...]``
(``direct_messages_group`` for group chats, ``part1``... for large archives). The prefix is
stripped and the rest read as JSON::

    [{"dmConversation": {"conversationId": "111-222", "messages": [
        {"messageCreate": {"id", "senderId", "recipientId", "text",
                           "createdAt": "2026-02-05T21:10:33.000Z", "mediaUrls", "urls",
                           "reactions": [{"senderId", "reactionKey", "createdAt"}]}},
        {"participantsJoin": {"initiatingUserId", "userIds", "createdAt"}}, ...]}}]

``messageCreate`` events become messages (media-only ones become ``media``); every other
event (``joinConversation``, ``participantsJoin``, ``participantsLeave``,
``conversationNameUpdate``...) becomes a ``system`` record whose subtype is the event name
in snake case, with its fields kept in ``extra``. People are numeric account ids only.
Positions are JSON paths from the start of the array
(``$[0].dmConversation.messages[3]``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

from cyberstalk.errors import ParseError
from cyberstalk.parsers import jsonload
from cyberstalk.parsers.base import ParseContext, ParseReport, Source
from cyberstalk.parsers.registry import register
from cyberstalk.records import Attachment, Locator, Record, RecordKind, TzBasis

PREFIX_RE = re.compile(rb"\A\s*window\.YTD\.(direct_messages(?:_group)?)\.part(\d+)\s*=\s*")
_HANDLED = frozenset({"id", "senderId", "recipientId", "text", "createdAt", "mediaUrls"})
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def parse_created(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int) and not isinstance(v, bool)]
    return []


@register
class TwitterDmParser:
    """Direct messages from an X (Twitter) account archive."""

    name: ClassVar[str] = "twitter-dm"
    version: ClassVar[str] = "1.0.0"
    platform: ClassVar[str] = "twitter"
    description: ClassVar[str] = (
        "X/Twitter archive direct messages (data/direct-messages.js, direct-messages-group.js)"
    )
    known_gaps: ClassVar[tuple[str, ...]] = (
        "People appear as numeric account ids only; the account holder's id is in "
        "account.js and other ids need resolving separately.",
        "Messages and conversations the account holder deleted are not in the archive.",
        "Media files are in data/direct_messages_media/ (or omitted); the messages carry "
        "only t.co and media links.",
        "Encrypted direct messages are believed not to be included in the archive.",
        "Group conversations are in direct-messages-group.js, a separate file.",
    )

    def sniff(self, source: Source) -> float:
        head = source.head(4096)
        if head.startswith(b"\xef\xbb\xbf"):
            head = head[3:]
        if PREFIX_RE.match(head):
            return 0.95
        return 0.0

    def parse(self, source: Source, ctx: ParseContext, report: ParseReport) -> Iterator[Record]:
        data = jsonload.read_bytes(source, ctx)
        bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        match = PREFIX_RE.match(data, bom)
        if match is None:
            raise ParseError(
                "missing the 'window.YTD.direct_messages.part0 = ' prefix",
                path=source.name,
                position="line 1, column 1",
                advice="this is not a direct-messages.js file from an X archive",
                records_before_fault=0,
            )
        loaded = jsonload.load(source, ctx, depth=4, start=match.end() - bom, data=data)
        conversations = jsonload.top_level(
            loaded,
            source,
            list,
            expected="an array of conversations after the prefix",
            advice="this is not a direct-messages.js file from an X archive",
            position=None,
        )
        emitted = 0
        for ci, wrapper in enumerate(conversations):
            conv = wrapper.get("dmConversation") if isinstance(wrapper, dict) else None
            if not isinstance(conv, dict):
                report.skip(f"$[{ci}]", "no dmConversation object")
                continue
            conv_id = conv.get("conversationId")
            conv_id = str(conv_id) if conv_id is not None else None
            messages = conv.get("messages")
            if not isinstance(messages, list):
                report.skip(f"$[{ci}].dmConversation", "no messages array")
                continue
            people = self._participants(conv_id, messages)
            for mi, event in enumerate(messages):
                position = f"$[{ci}].dmConversation.messages[{mi}]"
                if not isinstance(event, dict) or len(event) != 1:
                    report.skip(position, "not an event object with one event type")
                    continue
                ((etype, body),) = event.items()
                if not isinstance(body, dict):
                    report.skip(position, f"{etype} is not an object")
                    continue
                yield self._record(etype, body, position, source, report, conv_id, people)
                emitted += 1
        if loaded.fault is not None:
            raise loaded.fault.error(source, emitted)

    @staticmethod
    def _participants(conv_id: str | None, messages: list[Any]) -> list[str]:
        people: list[str] = []

        def add(values: list[str]) -> None:
            for v in values:
                if v not in people:
                    people.append(v)

        if conv_id and re.fullmatch(r"\d+-\d+", conv_id):
            add(conv_id.split("-"))
        for event in messages:
            if not isinstance(event, dict):
                continue
            for body in event.values():
                if not isinstance(body, dict):
                    continue
                add(_ids([body.get("senderId")]))
                add(_ids([body.get("recipientId")]))
                add(_ids(body.get("userIds")))
                add(_ids(body.get("participantsSnapshot")))
        return sorted(people)

    def _record(
        self,
        etype: str,
        body: Mapping[str, Any],
        position: str,
        source: Source,
        report: ParseReport,
        conv_id: str | None,
        people: list[str],
    ) -> Record:
        raw = body.get("createdAt")
        when = parse_created(raw)
        if when is None:
            report.warnings.append(
                f"{source.name} {position}: createdAt {raw!r} unreadable; record kept "
                "without a time"
            )
        time_raw = raw if isinstance(raw, str) else "" if raw is None else str(raw)
        locator = Locator(exhibit=source.exhibit, path=source.name, json_path=position)
        if etype == "messageCreate":
            sender = body.get("senderId")
            sender = str(sender) if sender is not None else None
            recipient = body.get("recipientId")
            recipients = (
                (str(recipient),)
                if recipient is not None
                else tuple(p for p in people if p != sender)
            )
            text = body.get("text") if isinstance(body.get("text"), str) else ""
            urls = report.shaped(
                body.get("mediaUrls"),
                (list, str, dict),
                f"{source.name} {position}.mediaUrls",
                outcome="no attachments read",
            )
            attachments = tuple(Attachment(name=u) for u in urls or [] if isinstance(u, str))
            extra: dict[str, Any] = {"id": body.get("id")}
            for key in sorted(set(body) - _HANDLED):
                extra[key] = body[key]
            return Record(
                kind=RecordKind.MEDIA if attachments and not text else RecordKind.MESSAGE,
                platform=self.platform,
                time_utc=when,
                time_raw=time_raw,
                tz_basis=TzBasis.EXPLICIT_OFFSET if when else TzBasis.UNKNOWN,
                locator=locator,
                parser=self.name,
                parser_version=self.version,
                sender=sender,
                recipients=recipients,
                text=str(text),
                attachments=attachments,
                conversation=conv_id,
                extra=extra,
            )
        actor = body.get("initiatingUserId", body.get("senderId"))
        return Record(
            kind=RecordKind.SYSTEM,
            platform=self.platform,
            time_utc=when,
            time_raw=time_raw,
            tz_basis=TzBasis.EXPLICIT_OFFSET if when else TzBasis.UNKNOWN,
            locator=locator,
            parser=self.name,
            parser_version=self.version,
            sender=str(actor) if actor is not None else None,
            recipients=tuple(_ids(body.get("userIds"))),
            text=str(body["name"]) if isinstance(body.get("name"), str) else "",
            subtype=_CAMEL.sub("_", etype).lower(),
            conversation=conv_id,
            extra={k: body[k] for k in sorted(body) if k != "createdAt"},
        )
