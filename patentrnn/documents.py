"""Read documents from a file in whatever format it comes: a CSV or TSV column, plain text (one
document a line, or a paragraph), JSON lines, or a ``.gz`` of any of these.

The format is detected from the file and can be named (:class:`ReadOptions`); so can the columns
(CSV, TSV) or keys (JSON lines) holding each document's text, title and id. Every problem is one
line naming the fix: a missing column (with the file's real columns), an empty, binary or
undecodable file. Documents of fewer than 2 words are skipped and counted.

    >>> from patentrnn.documents import ReadOptions, read_documents
    >>> documents, skipped = read_documents("my_patents.csv", ReadOptions(text_column="abstract"))
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

FORMATS = ("csv", "tsv", "text", "jsonl")
SPLITS = ("lines", "paragraphs")
TEXT_COLUMNS = ("patent_abstract", "abstract", "text")  # tried in this order when none is named
TITLE_COLUMNS = ("patent_title", "title")
ID_COLUMNS = ("patent_number", "id")
DATE_COLUMNS = ("patent_date", "date")
SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "text", ".text": "text", ".jsonl": "jsonl",
            ".ndjson": "jsonl"}  # fmt: skip
SNIFF_BYTES = 1 << 16
NAME_CHARACTERS = 40  # a column name longer than this is cut in messages
SHOWN_COLUMNS = 12


class DocumentsError(ValueError):
    """A file of documents cannot be read: the message names the fix."""


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file of documents; None: detected."""

    format: str | None = None  # csv, tsv, text or jsonl
    text_column: str | None = None  # CSV/TSV column or JSON key of the text (default: patent_abstract, abstract, text)
    title_column: str | None = None
    id_column: str | None = None
    documents: str | None = None  # plain text: "lines" or "paragraphs" (blank-line separated)

    def __post_init__(self):
        if self.format is not None and self.format not in FORMATS:
            raise DocumentsError(f"format must be one of {', '.join(FORMATS)}, not {_short(self.format)}")
        if self.documents is not None and self.documents not in SPLITS:
            raise DocumentsError(f"documents must be lines or paragraphs, not {_short(self.documents)}")

    def to_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}


READ_HELP = {  # the command line's help for each ReadOptions field (patentrnn train / evaluate)
    "format": "the file's format: csv, tsv, text or jsonl (default: from its name and content)",
    "text_column": "CSV/TSV column or JSON key of the text (default: patent_abstract, then abstract, then text)",
    "title_column": "column or key of the title (default: patent_title, then title)",
    "id_column": "column or key of an id (default: patent_number, then id)",
    "documents": "plain text: a document a line (lines), or a paragraph (paragraphs); default: detected",
}


@dataclass(frozen=True)
class Document:
    text: str
    title: str = ""
    id: str = ""
    date: str = ""


def _short(name) -> str:
    text = str(name)
    return repr(text if len(text) <= NAME_CHARACTERS else text[:NAME_CHARACTERS] + "…")


def _columns_list(names) -> str:
    shown = ", ".join(_short(name) for name in names[:SHOWN_COLUMNS])
    return shown + (f" and {len(names) - SHOWN_COLUMNS} more" if len(names) > SHOWN_COLUMNS else "")


def _open_text(path: Path) -> io.TextIOBase:
    """The file as text: gunzipped when it is gzip, UTF-8 (a BOM allowed); binary files refused."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.strip():
        raise DocumentsError(f"{path} is empty: give a file with one document or more")
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as handle:
                head = handle.read(SNIFF_BYTES)
        except (OSError, EOFError) as error:
            raise DocumentsError(f"{path} is not a readable gzip file ({error})") from None
        opener = lambda: gzip.open(path, "rt", encoding="utf-8-sig", newline="")  # noqa: E731
        if not head.strip():
            raise DocumentsError(f"{path} is empty once decompressed: give a file with one document or more")
    else:
        opener = lambda: open(path, encoding="utf-8-sig", newline="")  # noqa: E731
    if b"\x00" in head:
        raise DocumentsError(f"{path} looks binary (it holds NUL bytes): give a CSV, TSV, text or JSON lines file")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not merely a character cut at the sniffed block's end
            raise DocumentsError(f"{path} is not UTF-8 text (byte {error.start}): save it as UTF-8") from None
    return opener()


def detect_format(path: Path, head: str) -> str:
    """From the name (``.csv``, ``.tsv``, ``.txt``, ``.jsonl``, each maybe ``.gz``), else the content."""
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if suffixes and suffixes[-1] in SUFFIXES:
        return SUFFIXES[suffixes[-1]]
    first = next((line for line in head.splitlines() if line.strip()), "")
    if first.lstrip().startswith("{"):
        return "jsonl"
    if "\t" in first:
        return "tsv"
    lowered = [cell.strip().lower() for cell in first.split(",")]
    if len(lowered) > 1 and any(name in lowered for name in TEXT_COLUMNS):
        return "csv"
    return "text"


def _pick(columns: list[str], wanted: str | None, defaults: tuple[str, ...], what: str, path: Path) -> str | None:
    if wanted is not None:
        if wanted not in columns:
            raise DocumentsError(
                f"{path} has no {what} column {_short(wanted)} (columns: {_columns_list(columns)})"
            )
        return wanted
    found = next((name for name in defaults if name in columns), None)
    if found is None and what == "text":
        raise DocumentsError(
            f"{path} has no text column: name one with --text-column (columns: {_columns_list(columns)})"
        )
    return found


def _rows_table(handle, path: Path, delimiter: str, options: ReadOptions) -> Iterator[Document]:
    # TSV as IANA's text/tab-separated-values defines it: no quoting, a quote is a character
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.DictReader(handle, delimiter=delimiter, quoting=quoting)
    columns = [name for name in (reader.fieldnames or []) if name is not None]
    if not columns:
        raise DocumentsError(f"{path} has no header row: its first line must name the columns")
    text = _pick(columns, options.text_column, TEXT_COLUMNS, "text", path)
    title = _pick(columns, options.title_column, TITLE_COLUMNS, "title", path)
    number = _pick(columns, options.id_column, ID_COLUMNS, "id", path)
    date = next((name for name in DATE_COLUMNS if name in columns), None)
    for row in reader:
        yield Document(
            row.get(text) or "",
            (row.get(title) or "").strip() if title else "",
            (row.get(number) or "").strip() if number else "",
            (row.get(date) or "").strip() if date else "",
        )


def _rows_jsonl(handle, path: Path, options: ReadOptions) -> Iterator[Document]:
    keys = None
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise DocumentsError(f"{path}, line {number}: not JSON ({error.msg}); give one object a line") from None
        if not isinstance(item, dict):
            raise DocumentsError(f"{path}, line {number}: not a JSON object; give one object a line")
        if keys is None:
            columns = list(item)
            keys = [
                _pick(columns, options.text_column, TEXT_COLUMNS, "text", path),
                _pick(columns, options.title_column, TITLE_COLUMNS, "title", path),
                _pick(columns, options.id_column, ID_COLUMNS, "id", path),
                next((name for name in DATE_COLUMNS if name in columns), None),
            ]
        yield Document(*(str(item.get(key) or "").strip() if key else "" for key in keys))


def _rows_text(handle, options: ReadOptions) -> Iterator[Document]:
    content = handle.read()
    lines = content.splitlines()
    blank_separated = any(not line.strip() for line in lines) and any(
        a.strip() and b.strip() for a, b in zip(lines, lines[1:])
    )  # a blank line somewhere, and documents running over several lines
    split = options.documents or ("paragraphs" if blank_separated else "lines")
    if split == "lines":
        parts = lines
    else:
        parts, current = [], []
        for line in lines + [""]:
            if line.strip():
                current.append(line.strip())
            elif current:
                parts.append(" ".join(current))
                current = []
    for part in parts:
        yield Document(part)


def iter_documents(path: str | os.PathLike, options: ReadOptions = ReadOptions()) -> Iterator[Document]:
    """Every document of ``path`` (text stripped; short ones included: see :func:`read_documents`)."""
    path = Path(path)
    if not path.is_file():
        raise DocumentsError(f"no such file: {path}")
    with _open_text(path) as handle:
        try:
            head = handle.read(SNIFF_BYTES)
            handle.seek(0)
        except UnicodeDecodeError:
            raise DocumentsError(f"{path} is not UTF-8 text: save it as UTF-8") from None
        kind = options.format or detect_format(path, head)
        try:
            if kind in ("csv", "tsv"):
                csv.field_size_limit(1 << 24)
                yield from _rows_table(handle, path, "," if kind == "csv" else "\t", options)
            elif kind == "jsonl":
                yield from _rows_jsonl(handle, path, options)
            else:
                yield from _rows_text(handle, options)
        except UnicodeDecodeError as error:
            raise DocumentsError(f"{path} is not UTF-8 text ({error.reason}): save it as UTF-8") from None
        except csv.Error as error:
            raise DocumentsError(f"{path} is not a readable {kind.upper()} file: {error}") from None
