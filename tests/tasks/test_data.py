"""Task files as users have them: a byte-order mark and CRLF line endings read as usual (jsonl and a CoNLL column
file), and the files no reader can use (missing, a folder, empty, binary) refused by check_readable with the line."""
from __future__ import annotations

import codecs
import gzip

import pytest

from ptune.config.compose import compose
from ptune.tasks import build_task
from ptune.tasks.data import UnusableDataFile, check_readable

CONLL03 = ("-DOCSTART- -X- -X- O\n\nEU NNP B-NP I-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP I-MISC\n\n"
           "Peter NNP B-NP I-PER\n")


def as_windows_file(text: str) -> bytes:
    """What an editor on Windows saves: a UTF-8 byte-order mark and CRLF line endings."""
    return codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode("utf-8")


def task(name, data_dir):
    return build_task(compose([f"task={name}"]).task, data_dir)


def test_jsonl_with_a_byte_order_mark_and_crlf_reads_as_usual(tmp_path, write_samples):
    plain, windows = write_samples(tmp_path / "plain"), write_samples(tmp_path / "windows")
    train = windows / "super_glue" / "RTE" / "train.jsonl"
    train.write_bytes(as_windows_file(train.read_text()))
    assert train.read_bytes().startswith(codecs.BOM_UTF8) and b"\r\n" in train.read_bytes()
    check_readable(train)
    assert task("rte", windows).examples("train") == task("rte", plain).examples("train")


def test_conll_file_with_a_byte_order_mark_and_crlf_reads_as_usual(tmp_path):
    for folder, content in (("plain", CONLL03.encode()), ("windows", as_windows_file(CONLL03))):
        (tmp_path / folder / "conll2003").mkdir(parents=True)
        (tmp_path / folder / "conll2003" / "eng.train").write_bytes(content)
    check_readable(tmp_path / "windows" / "conll2003" / "eng.train")
    examples = task("conll03", tmp_path / "windows").examples("train")
    assert examples == task("conll03", tmp_path / "plain").examples("train")
    assert [e["words"] for e in examples] == [["EU", "rejects", "German"], ["Peter"]]
    assert examples[0]["tags"] == ["B-ORG", "O", "B-MISC"]


@pytest.mark.parametrize("content,message", [
    (None, "data file not found"),
    ("folder", "is a folder, not a file"),
    (b"", "the file is empty"),
    (b" \n\r\n\t\n", "the file is empty"),
    (codecs.BOM_UTF8, "the file is empty"),
    (b'{"a": 1}\n{"b": "\xff\xfe"}\n', r":2: not a text file \(byte 0xff at column 8 is not UTF-8\)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", ":1: not a text file"),
    (b"PK\x03\x04\x00\x00\x00", r":1: not a text file \(a NUL byte\)"),
])
def test_unusable_files_are_refused_with_exit_code_2(tmp_path, content, message):
    path = tmp_path / "train.jsonl"
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(UnusableDataFile, match=message) as refused:
        check_readable(path)
    assert refused.value.exit_code == 2 and str(path) in str(refused.value)


def test_gzip_files_are_checked_inside(tmp_path):
    good, bad = tmp_path / "a.words.gz", tmp_path / "b.words.gz"
    good.write_bytes(gzip.compress(b"The\ncat\n"))
    bad.write_bytes(gzip.compress(b"The\n\xc3\x28\n"))
    check_readable(good)
    with pytest.raises(UnusableDataFile, match=r"b\.words\.gz:2: not a text file"):
        check_readable(bad)
