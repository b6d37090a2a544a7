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
