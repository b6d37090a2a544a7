"""The skills a reading is scored on, named once, in the order the app shows them.

The scorer (pronounce/scores.py) computes them, the learner store keeps them (learner/schema.py: its
columns), the coach explains and draws them; each imports the names from here. No imports: the
learner store must not pay for the scorer to know them.
"""

__all__ = ["SKILLS", "RESULT_SCORES"]

SKILLS = ("accuracy", "fluency", "prosody", "completeness", "coherence")  # each scored 0-100
RESULT_SCORES = ("overall",) + SKILLS  # as a result and the app show them: the overall score first
