"""Reading zip archives member by member, refusing what could hurt or mislead.

Never ``extractall``: it silently rewrites ``../`` names (custody.md, "Zip slip"), which
changes evidence names without saying so. Every member is checked by name first; then its
bytes are streamed with caps on what is *actually* decompressed (not the declared size,
which a bomb lies about), and zipfile's CRC check runs at the end of each member.
"""

from __future__ import annotations

import stat
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from cyberstalk.errors import ArchiveError

if TYPE_CHECKING:  # zipfile (~10 ms) is imported when an archive is opened, not by every ingest
    import zipfile

CHUNK = 1 << 20


class ArchiveLimits(NamedTuple):
    """Caps that stop decompression bombs and absurd archives."""

    max_members: int = 20_000
    """Most file members one archive may hold."""
    max_member_bytes: int = 8 << 30
    """Most bytes one member may decompress to."""
    max_total_bytes: int = 32 << 30
    """Most bytes all members together may decompress to."""
    max_ratio: float = 200.0
    """Highest decompressed/compressed ratio, applied once a member passes ratio_floor."""
    ratio_floor: int = 4 << 20
    """Members smaller than this are not ratio-checked (tiny text files compress well)."""


class Member(NamedTuple):
    """A file member that passed the name checks."""

    number: int
    """1-based position among the archive's file members: the sub-exhibit number."""
    name: str
    """The member name exactly as stored (decoded as the zip says: UTF-8 or CP437)."""
    declared_size: int
    compressed_size: int
    zip_datetime: str
    """The member's timestamp as written: zip stores local time with no zone."""
    info: zipfile.ZipInfo


def _name_problem(name: str) -> str | None:
    if "\x00" in name:
        return "name contains a NUL byte"
    if name.startswith(("/", "\\")):
        return "absolute path"
    if len(name) >= 2 and name[1] == ":" and name[0].isalpha():
        return "absolute Windows path (drive letter)"
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        return "path traversal ('..' component)"
    return None


def list_members(zf: zipfile.ZipFile, archive: str, limits: ArchiveLimits) -> list[Member]:
    """Check every member's name and kind; return the file members in archive order.

    Raises ArchiveError naming the first offending member (the whole archive is refused:
    a partial ingest of an archive is never made).
    """
    members: list[Member] = []
    seen: dict[str, str] = {}
    for info in zf.infolist():
        name = info.filename
        problem = _name_problem(name)
        if problem:
            raise ArchiveError(
                f"archive member {name!r} refused: {problem}",
                path=archive,
                member=name,
                advice="the archive is kept whole as an exhibit; examine it by hand",
            )
        if info.is_dir():
            continue
        file_type = stat.S_IFMT(info.external_attr >> 16)
        mode = info.external_attr >> 16
        # Only Unix-made zips carry a file type; writers that leave it 0 mean "regular".
        if info.create_system == 3 and file_type and file_type != stat.S_IFREG:
            kind = "symbolic link" if stat.S_ISLNK(mode) else "special file"
            raise ArchiveError(
                f"archive member {name!r} refused: it is a {kind}",
                path=archive,
                member=name,
                advice="links inside evidence archives are not followed; examine it by hand",
            )
        if info.flag_bits & 0x1:
            raise ArchiveError(
                f"archive member {name!r} is encrypted",
                path=archive,
                member=name,
                advice="ask the submitter for the password, or an unencrypted copy",
            )
        # Two names that a case-insensitive or Unicode-normalising file system would merge.
        folded = unicodedata.normalize("NFC", name).casefold()
        if folded in seen:
            other = seen[folded]
            what = "duplicate member name" if other == name else "names collide"
            raise ArchiveError(
                f"archive members {other!r} and {name!r}: {what}",
                path=archive,
                member=name,
                advice="the archive is kept whole as an exhibit; examine it by hand",
            )
        seen[folded] = name
        if len(members) >= limits.max_members:
            raise ArchiveError(
                f"archive has more than {limits.max_members} members",
                path=archive,
                member=name,
                advice="the archive is kept whole as an exhibit; examine it by hand",
            )
        y, mo, d, h, mi, s = info.date_time
        members.append(
            Member(
                number=len(members) + 1,
                name=name,
                declared_size=info.file_size,
                compressed_size=info.compress_size,
                zip_datetime=datetime(y, mo, d, h, mi, s).isoformat(),  # noqa: DTZ001 - zip has no zone
                info=info,
            )
        )
    return members


def stream_member(
    zf: zipfile.ZipFile,
    member: Member,
    sink: Callable[[bytes], None],
    *,
    archive: str,
    limits: ArchiveLimits,
    total_so_far: int = 0,
) -> int:
    """Decompress one member into ``sink`` chunk by chunk; returns bytes produced.

    Caps are enforced on bytes actually produced. zipfile checks the CRC when the member
    has been read to its end and raises BadZipFile on a mismatch.
    """
    import zlib
    from zipfile import BadZipFile

    produced = 0

    def refuse(reason: str) -> ArchiveError:
        return ArchiveError(
            f"archive member {member.name!r} refused: {reason}",
            path=archive,
            member=member.name,
            advice="the archive is kept whole as an exhibit; examine it by hand",
        )

    try:
        with zf.open(member.info) as fh:
            while chunk := fh.read(CHUNK):
                produced += len(chunk)
                if produced > limits.max_member_bytes:
                    raise refuse(f"decompresses to more than {limits.max_member_bytes} bytes")
                if total_so_far + produced > limits.max_total_bytes:
                    raise refuse(
                        f"archive decompresses to more than {limits.max_total_bytes} bytes in all"
                    )
                if produced > limits.ratio_floor and produced > limits.max_ratio * max(
                    member.compressed_size, 1
                ):
                    raise refuse(
                        f"compression ratio above {limits.max_ratio:.0f}:1 "
                        "(possible decompression bomb)"
                    )
                sink(chunk)
    except ArchiveError:
        raise
    except BadZipFile as exc:
        raise refuse(f"corrupt data ({exc})") from exc
    except (zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        raise refuse(f"cannot be decompressed ({exc})") from exc
    if produced != member.declared_size:
        raise refuse(f"size {produced} differs from the declared {member.declared_size}")
    return produced


def open_zip(path: str, display: str) -> zipfile.ZipFile:
    """Open a zip, turning every way it can be broken into one clear ArchiveError."""
    import zipfile

    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ArchiveError(
            f"{display}: not a readable zip archive ({exc})",
            path=display,
            advice="the file is kept whole as an exhibit; ask the submitter for a new copy",
        ) from exc
