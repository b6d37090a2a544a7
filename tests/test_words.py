"""Words of a text as the scorer compares them (speaksphere.words): one folding, numbers spelled out."""

import pytest

from speaksphere.words import normalise_text, normalise_word, number_words, spell_number, word_tokens


def test_a_word_and_a_text_are_folded_the_same_way():
    assert normalise_word("Veuillez,") == "veuillez" and normalise_word("l’heure") == "l'heure"
    assert normalise_word("'quoted'") == "quoted" and normalise_word("?!") == ""
    assert normalise_text("Veuillez  RÉESSAYER, l’heure!") == "veuillez réessayer l'heure"
    assert normalise_text("ﬁle") == "file"  # NFKC: the ligature is two letters
    assert word_tokens("Please, leave it.") == ["please", "leave", "it"]


@pytest.mark.parametrize("word, language, spelled", [("3", "en", ["three"]), ("21", "en", ["twenty", "one"]),
                                                      ("7", "fr", ["sept"]), ("hello", "en", ["hello"]), ("", "en", []),
                                                      ("\u00b2", "en", ["\u00b2"]), ("4", "xx", ["4"])])
def test_numbers_are_spelled_out_where_num2words_knows_the_language(word, language, spelled):
    assert spell_number(word, language) == spelled


def test_number_words_is_none_in_a_language_num2words_does_not_know():
    assert number_words(1999, "en") == "one thousand, nine hundred and ninety-nine"
    assert number_words(3, "xx") is None
