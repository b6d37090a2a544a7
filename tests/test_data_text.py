"""Sentences from offline text: plain ones kept, program strings dropped, one split per sentence."""

import gzip

from speaksphere.data.text import normalise, plain_sentence, pool_by_split, read_transcripts, text_split

FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}


def test_plain_sentences_are_kept_and_program_strings_dropped():
    assert plain_sentence("Please enter your password.") == "Please enter your password."
    assert plain_sentence("&Open the file:") == "Open the file"
    for bad in ["%s files copied", "Use --force to overwrite", "open {name} now please", "two words",
                "lower case start here", "File /tmp/x is missing", "Line one\nline two here", "Version 2 is here"]:
        assert plain_sentence(bad) is None, bad


def test_text_split_is_stable_and_ignores_case_and_punctuation():
    assert text_split("Hello there, my friend.", FRACTIONS) == text_split("hello there my friend", FRACTIONS)
    assert text_split("abc def ghi", FRACTIONS, forced={"abc def ghi": "val"}) == "val"
    pools = pool_by_split([f"Sentence number {w} here" for w in "abcdefghijklmnopqrstuvwxyz" * 4], FRACTIONS)
    everything = [s for pool in pools.values() for s in pool]
    assert len(everything) == len(set(everything)) == 26  # duplicates dropped, each sentence in one pool
    assert len(pools["train"]) > len(pools["test"])


def test_asterisk_transcripts(tmp_path):
    path = tmp_path / "core-sounds-xx.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as file:
        file.write("; comment\nbeep: [a beep tone]\ndigits/1: one\n"
                   "conf-x: conf-x: Bonjour à tous.\nagent: \"Hello.\"\n")
    assert read_transcripts(path) == {"digits/1": "one", "conf-x": "Bonjour à tous.", "agent": "Hello."}
    assert normalise("  Bonjour,  À tous! ") == "bonjour à tous"
