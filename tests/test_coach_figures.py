"""Compare's chart reads at a glance: every label inside the picture, the reason shown when the words
were not compared (issue 22: rotated 8-pt labels under a half-empty figure)."""

from matplotlib.backends.backend_agg import FigureCanvasAgg

from speaksphere.coach.figures import plot_comparison

A = {"overall": 20.0, "accuracy": 44.0, "fluency": 100.0, "prosody": 13.0, "completeness": 36.0, "coherence": 15.0}
B = {"overall": 99.0, "accuracy": 100.0, "fluency": 100.0, "prosody": None, "completeness": 100.0,
     "coherence": 96.0, "not_scored": {"prosody": "a typed text's computer voice"}}


def _texts_inside(figure) -> bool:
    FigureCanvasAgg(figure).draw()
    renderer, box = figure.canvas.get_renderer(), figure.bbox
    labels = [t for ax in figure.axes for t in ax.get_yticklabels() + ax.get_xticklabels() + ax.texts] + figure.texts
    return all(box.x0 - 1 <= t.get_window_extent(renderer).x0 and t.get_window_extent(renderer).x1 <= box.x1 + 1
               for t in labels if t.get_text())


def test_scores_of_another_sentence_come_with_the_reason_where_the_words_would_be():
    figure = plot_comparison({"a": A, "b": B, "words": [], "another_sentence": ["A"]})
    assert figure.get_figwidth() * figure.dpi == 1200 and len(figure.axes) == 2 and not figure.axes[1].axison
    assert [t.get_text().replace("\n", " ") for t in figure.axes[1].texts] == [
        "Words not compared: attempt A sounds like another sentence than the reference"]
    bars = figure.axes[0].patches
    assert len(bars) == 12 and sum(1 for bar in bars if bar.get_width() != bar.get_width()) == 1  # prosody of B: no bar
    assert "prosody\n(not scored)" in [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert _texts_inside(figure)


def test_each_word_is_drawn_when_the_words_were_compared():
    words = [{"word": w, "a": 40.0 + i, "b": 90.0 - i} for i, w in enumerate("please enter your password".split())]
    figure = plot_comparison({"a": A, "b": B, "words": words})
    assert len(figure.axes) == 2 and not figure.texts and not figure.axes[1].texts and figure.axes[1].axison
    assert [t.get_text() for t in figure.axes[1].get_xticklabels()] == ["please", "enter", "your", "password"]
    assert _texts_inside(figure)


def test_without_the_text_the_reason_says_word_scores_need_it():
    figure = plot_comparison({"a": A, "b": B, "words": []})
    assert [t.get_text().replace("\n", " ") for t in figure.axes[1].texts] == [
        "Words not compared: word scores need the text of the phrase"]
    both = plot_comparison({"a": A, "b": B, "words": [], "another_sentence": ["A", "B"]})
    assert "attempt A and attempt B sound like" in both.axes[1].texts[0].get_text().replace("\n", " ")
    assert _texts_inside(figure)


def test_answer_labels_headline_an_unsure_accent_or_emotion_as_not_sure():
    from speaksphere.coach.figures import answer_labels

    predictions = {"language": {"en": 0.9, "fr": 0.1}, "accent": {"L1-zh": 0.8, "en-US": 0.2},
                   "emotion": {"sad": 0.4, "neutral": 0.35, "happy": 0.25}, "command": {"_unknown_": 0.3, "yes": 0.2}}
    labels = answer_labels(predictions)
    assert max(labels["accent"], key=labels["accent"].get) == "English with a Mandarin accent"
    assert labels["emotion"] == {"not sure (perhaps sad)": 0.4, "neutral": 0.35, "happy": 0.25}
    assert "not a command word" in labels["command"]  # the command answers as before: not an abstaining task
    assert "accent" not in answer_labels(dict(predictions, language={"fr": 0.9, "en": 0.1}))
