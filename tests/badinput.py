"""A generated set of bad inputs mixed with good articles, with what must happen to each.

``make_bad_input_set(folder)`` writes the files and returns a list of
:class:`Expect`: an article that must end up searchable (by a token that
occurs in nothing else), or a file/record that must be reported with a
reason.  Used by tests/test_bad_input.py; deterministic (fixed seed).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import unicodedata
from dataclasses import dataclass
from pathlib import Path

GOOD = ("{title} {token}\n{date}\nTheo Ủy ban nhân dân xã, Mặt trận Tổ quốc đã tổ chức hội nghị về {token} "
        "tại khu dân cư số {n}. Các đại biểu thảo luận sôi nổi.\nNguyễn Văn An\n")
TITLES = ["Hội nghị Mặt trận", "Tin hoạt động xã", "Ngày hội Đại đoàn kết", "Hoà giải ở cơ sở"]


@dataclass
class Expect:
    name: str            # file name, or "file.jsonl:line"
    outcome: str         # "indexed" (no report), "warning" (indexed and reported) or "skipped"
    reason: str = ""     # substring of the reported reason
    doc_id: str = ""     # id under which an indexed article is found
    token: str = ""      # a search for it must find doc_id


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as legacy Vietnamese software wrote it: precomposed ă/â/ơ… plus a combining tone mark."""
    out = []
    for ch in text:
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", ch)
            for mark in marks:  # fold the vowel's own mark (circumflex, breve, horn) back in
                joined = unicodedata.normalize("NFC", base + mark)
                if len(joined) == 1 and joined.encode("cp1258", "ignore"):
                    base = joined
                    marks.remove(mark)
                    break
            out.append((base + "".join(marks)).encode("cp1258"))
    return b"".join(out)


def _token(n: int) -> str:
    return f"kiemtra{n:04d}"


def make_bad_input_set(folder: Path, seed: int = 7) -> list[Expect]:
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    expects: list[Expect] = []
    counter = iter(range(10_000))

    def good_text(n: int, date: str = "12/03/2021") -> str:
        return GOOD.format(title=rnd.choice(TITLES), token=_token(n), date=date, n=n)

    def file(name: str, data: bytes, outcome: str, reason: str = "", token: str = "") -> None:
        (folder / name).write_bytes(data)
        expects.append(Expect(name, outcome, reason, name if outcome != "skipped" else "", token))

    # Good articles in between, as a real folder would have them.
    for _ in range(40):
        n = next(counter)
        file(f"good_{n:04d}.txt", good_text(n).encode("utf-8"), "indexed", token=_token(n))

    # Binary data: random bytes with NULs, control-only data, real binary formats.
    for i in range(8):
        file(f"binary_{i}.txt", bytes(rnd.randrange(256) for _ in range(rnd.randrange(64, 4096))), "skipped", "binary")
    for i in range(4):
        file(f"controls_{i}.txt", bytes(rnd.choice([1, 2, 3, 7, 8, 11, 12, 27]) for _ in range(500)), "skipped", "binary")
    file("png.txt", b"\x89PNG\r\n\x1a\n" + bytes(200), "skipped", "binary")
    file("gzip.txt", gzip.compress(good_text(0).encode("utf-8") * 20), "skipped", "binary")

    # UTF-8 cut off in the middle of a character: the article is kept, the stump dropped.
    for i in range(10):
        n = next(counter)
        data = (good_text(n) + "Bài viết kết thúc ở chữ cuối cùng là ệ").encode("utf-8")
        file(f"truncated_{i}.txt", data[: -rnd.choice([1, 2])], "warning", "truncated", _token(n))
    # UTF-8 with a few damaged bytes inside: replaced, article kept.
    for i in range(5):
        n = next(counter)
        data = bytearray(good_text(n).encode("utf-8"))
        for _ in range(rnd.randrange(1, 3)):
            pos = data.index(b"\xe1", 60)  # the lead byte of a three-byte Vietnamese letter
            data[pos] = 0xFF
        file(f"damaged_utf8_{i}.txt", bytes(data), "warning", "invalid UTF-8", _token(n))

    # UTF-16 with and without BOM, both byte orders: read silently.
    for i, enc in enumerate(["utf-16", "utf-16", "utf-16-le", "utf-16-be", "utf-16-le", "utf-16-be"]):
        n = next(counter)
        file(f"utf16_{i}_{enc}.txt", good_text(n).encode(enc), "indexed", token=_token(n))

    # Legacy encodings.
    for i in range(10):
        n = next(counter)
        file(f"cp1258_{i}.txt", to_cp1258(good_text(n)), "warning", "Windows-1258", _token(n))
    for i in range(5):
        n = next(counter)
        western = f"Café crème {_token(n)}\n12/03/2021\nDéjà vu à la française, {_token(n)} naïve façade.\nRené\n"
        file(f"cp1252_{i}.txt", western.encode("cp1252"), "warning", "Windows-1252", _token(n))
    file("undecodable.txt", b"Tin \x81\x8d\x8f\x90\x9d" * 30, "skipped", "not valid UTF-8")

    # Sizes: a 20 MB single line is not an article; a long single line is text without a title line.
    file("huge_single_line.txt", b"Mat tran " * (20 * 1024 * 1024 // 9), "skipped", "too large")
    n = next(counter)
    long_line = " ".join(good_text(n).split("\n")[2:3]) * 40
    file("one_long_line.txt", long_line.encode("utf-8"), "warning", "no title line", _token(n))

    # Nothing to index.
    for i, data in enumerate([b"", b"   \n\t\n", b"\n\n\n", b"\xef\xbb\xbf", "\ufeff".encode("utf-16"),
                              "\u200b\u00a0\n".encode("utf-8")]):
        file(f"empty_{i}.txt", data, "skipped", "empty")
    for i, chrome in enumerate(["Các tin tức khác\n- Tin 1\n- Tin 2\n", "danh mục tin tức\nTrang chủ\n",
                                "Các tin tức khác\ndanh mục tin tức\n", "\n\nTin tức khác\nXem thêm\n"]):
        file(f"chrome_{i}.txt", chrome.encode("utf-8"), "skipped", "empty file or only site chrome")
    file("title_only.txt", "Chỉ có tiêu đề\n".encode(), "skipped", "no article text")

    # Impossible dates: the article is indexed without a date.
    for i, date in enumerate(["31/02/2020", "29/02/2021", "32/01/2020", "15/13/2020", "00/00/0000", "31/04/2022"]):
        n = next(counter)
        file(f"bad_date_{i}.txt", good_text(n, date).encode("utf-8"), "warning", "date", _token(n))

    # A file name that is not UTF-8.
    name = b"bad_name_\xff.txt"
    with open(os.path.join(os.fsencode(folder), name), "wb") as fh:
        fh.write(good_text(0).encode("utf-8"))
    expects.append(Expect(os.fsdecode(name), "skipped", "file name is not valid UTF-8"))

    # JSON lines: good records mixed with broken ones, and duplicate ids.
    lines: list[tuple[str, str, str, str, str]] = []  # (raw line, outcome, reason, id, token)

    def record(obj, outcome: str, reason: str = "", rid: str = "", token: str = "") -> None:
        if isinstance(obj, str):
            raw = obj
        else:
            raw = json.dumps(obj, ensure_ascii=rnd.random() < 0.5)
            if not raw.isascii() and any(0xD800 <= ord(c) < 0xE000 for c in raw):
                raw = json.dumps(obj)  # a lone surrogate can only be written as an escape
        lines.append((raw, outcome, reason, rid, token))

    def good_record(rid: str, n: int, **extra) -> dict:
        return {"id": rid, "title": f"Tin {_token(n)}", "body": good_text(n), "date": "2021-03-12", **extra}

    for _ in range(15):
        n = next(counter)
        record(good_record(f"j{n}", n), "indexed", rid=f"j{n}", token=_token(n))
    n = next(counter)
    record(good_record(n, n), "indexed", rid=str(n), token=_token(n))  # a numeric id is an id
    bad_records = [
        ({"title": "Không có id", "body": "x"}, "missing or invalid 'id'"),
        ({"id": None, "title": "t", "body": "x"}, "missing or invalid 'id'"),
        ({"id": "", "title": "t", "body": "x"}, "missing or invalid 'id'"),
        ({"id": ["a"], "title": "t", "body": "x"}, "missing or invalid 'id'"),
        ({"id": True, "title": "t", "body": "x"}, "missing or invalid 'id'"),
        ({"id": {"x": 1}, "title": "t", "body": "x"}, "missing or invalid 'id'"),
        ({"id": "nobody"}, "no title and no body"),
        ({"id": "blank", "title": "  ", "body": "\n"}, "no title and no body"),
        ({"id": "title_list", "title": ["a", "b"], "body": "x"}, "'title' must be a string"),
        ({"id": "body_num", "title": "t", "body": 42}, "'body' must be a string"),
        ({"id": "body_obj", "title": "t", "body": {"text": "x"}}, "'body' must be a string"),
        ({"id": "surrogate_id\ud800", "title": "t", "body": "x"}, "lone UTF-16 surrogate"),
        ("[1, 2, 3]", "expected a JSON object"),
        ('"chỉ là chuỗi"', "expected a JSON object"),
        ("42", "expected a JSON object"),
        ("null", "expected a JSON object"),
        ('{"id": "cut", "title": "Bị cắt', "invalid JSON"),
        ("{id: 'js'}", "invalid JSON"),
        ('{"id": "x"} trailing', "invalid JSON"),
        ("\x00\x01\x02", "invalid JSON"),
        ("<html><body>không phải JSON</body></html>", "invalid JSON"),
    ]
    for obj, reason in bad_records:
        record(obj, "skipped", reason)
    # Wrongly typed optional fields: the record is indexed without them.
    for key, value, reason in [("date", 20210312, "'date' must be a string"), ("date", "2021-02-31", "impossible date"),
                               ("date", "hôm qua", "unrecognised date"), ("author", 7, "'author' must be a string"),
                               ("url", ["x"], "'url' must be a string"), ("category", {}, "'category' must be"),
                               ("body", "có ký tự \ud83d lẻ", "lone UTF-16 surrogates")]:
        n = next(counter)
        rec = good_record(f"typed_{key}_{n}", n)
        if key == "body":
            rec["body"] = good_text(n) + value
        else:
            rec[key] = value
        record(rec, "warning", reason, rid=rec["id"], token=_token(n))
    # A record over the size limit.
    record(json.dumps({"id": "huge", "title": "t", "body": "Mặt trận " * (6 * 1024 * 1024 // 10)}), "skipped",
           "record too large")
    # Duplicate ids: the first one wins, every later one is reported.
    for _ in range(10):
        n = next(counter)
        record(good_record(f"dup{n}", n), "indexed", rid=f"dup{n}", token=_token(n))
        record(good_record(f"dup{n}", n + 5000), "skipped", "duplicate id", rid=f"dup{n}", token=_token(n + 5000))
    rnd.shuffle(lines)
    seen_dups: set[str] = set()
    for i, (raw, _outcome, _reason, rid, token) in enumerate(lines):  # in file order, the first one wins
        if rid.startswith("dup"):
            first = rid not in seen_dups
            seen_dups.add(rid)
            lines[i] = (raw, "indexed", "", rid, token) if first else (raw, "skipped", "duplicate id", "", "")
    with open(folder / "records.jsonl", "w", encoding="utf-8") as fh:
        for raw, *_ in lines:
            fh.write(raw + "\n")
    for lineno, (_raw, outcome, reason, rid, token) in enumerate(lines, 1):
        expects.append(Expect(f"records.jsonl:{lineno}", outcome, reason, rid, token))

    # A gzip'd JSON-lines file that was cut off half way.
    n = next(counter)
    blob = gzip.compress((json.dumps(good_record(f"gz{n}", n)) + "\n").encode("utf-8") * 1
                         + b'{"id": "gzcut", "title": "x", "body": "'
                         + "".join(rnd.choice("abcdefghij ") for _ in range(5000)).encode() + b'"}\n')
    (folder / "cut.jsonl.gz").write_bytes(blob[: len(blob) - 40])
    expects.append(Expect("cut.jsonl.gz", "skipped", "could not read further"))
    expects.append(Expect("cut.jsonl.gz:1", "indexed", doc_id=f"gz{n}", token=_token(n)))
    (folder / "not_gzip.jsonl.gz").write_bytes(b"this is not gzip data at all")
    expects.append(Expect("not_gzip.jsonl.gz", "skipped", "could not read further"))
    return expects
