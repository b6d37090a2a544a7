"""The typed pronunciation result (pronounce/result.py): its rows' public JSON, and the scorer's dict view."""

import json

from speaksphere.pronounce import (
    InsertedWord,
    Phone,
    PronunciationResult,
    Segment,
    WordScore,
    assess_file,
    library_reference,
)
from speaksphere.pronounce.references import LIBRARY_DIR, library_phrase
from speaksphere.pronounce.result import Heard, HeardWord


def test_rows_give_their_public_keys_in_order_and_leave_out_what_was_not_measured():
    said = Segment("hello", 0, 0.1, 0.4, 0.3512, 81.2, False, "none")
    inserted = Segment("(inserted)", None, 0.5, 0.8, 0.61, 0.0, True, "insertion")
    assert list(said.to_dict()) == ["label", "index", "start", "end", "cost", "score", "flag", "miscue"]
    assert list(inserted.to_dict()) == ["label", "start", "end", "cost", "score", "flag", "miscue", "index"]
    plain = WordScore("hello", 0, 0.1, 0.4, 81.2, 0.3512, "none")
    assert list(plain.to_dict()) == ["word", "index", "start", "end", "score", "cost", "miscue"]
    heard = WordScore("hello", 0, 0.1, 0.4, 81.2, 0.3512, "none", heard_cost=0.2, intelligibility=90.0,
                      heard_as=None, gop=-2.5, gop_relative=0.0)
    assert heard.to_dict() == {**plain.to_dict(), "heard_cost": 0.2, "intelligibility": 90.0, "heard_as": None,
                               "gop": -2.5, "gop_relative": 0.0}
    assert InsertedWord(0.5, 0.8, 0.61).to_dict() == {"word": None, "index": None, "start": 0.5, "end": 0.8,
                                                      "score": 0.0, "cost": 0.61, "miscue": "insertion"}
    assert InsertedWord(0.5, 0.8, 0.61, repeats=2).to_dict()["repeats"] == 2
    assert list(Phone("HH", "hello", 0.1, 0.2, -1.5, 95.0).to_dict()) == ["phone", "word", "start", "end", "gop",
                                                                         "score"]


def test_a_result_without_text_or_listener_has_no_words_heard_or_phones():
    result = PronunciationResult(50.0, 40.0, 60.0, None, 80.0, 70.0, {"prosody": "why"}, [], {"measures": {"a": 1}})
    public = result.to_dict()
    assert list(public) == ["overall", "accuracy", "fluency", "prosody", "completeness", "coherence", "not_scored",
                            "segments", "details"]
    public["details"]["measures"]["a"] = 2  # the dict view is a copy: the typed result is unchanged
    assert result.details["measures"]["a"] == 1
    heard = Heard("hello there", [HeardWord("hello", "hello", "none"), HeardWord(None, "there", "insertion")], 0.5)
    public = PronunciationResult(50.0, 40.0, 60.0, 1.0, 80.0, 70.0, {}, [], {}, another_sentence=False,
                                 heard=heard, words=[]).to_dict()
    assert list(public)[-3:] == ["another_sentence", "heard", "words"]
    assert public["heard"]["words"][1] == {"expected": None, "heard": "there", "miscue": "insertion"}


def test_an_assessment_holds_the_typed_result_and_its_dict_view():
    phrase = library_phrase("en-conf-locked")
    assessment = assess_file(str(LIBRARY_DIR / phrase.file), library_reference(phrase.id), phrase.text, "en")
    scored = assessment.scored
    assert isinstance(scored, PronunciationResult) and assessment.result == scored.to_dict()
    assert all(isinstance(w, (WordScore, InsertedWord)) for w in scored.words)
    assert len([w for w in scored.words if isinstance(w, WordScore)]) == len(phrase.text.split()) == 4
    assert all(isinstance(p, Phone) for p in scored.phones) and scored.phones
    json.dumps(assessment.result)  # plain JSON: no dataclass or numpy bool left in the public view
