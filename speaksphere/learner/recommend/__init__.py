"""Adaptive exercise recommendations: a contextual bandit over the exercise catalogue.

`Recommender(store).recommend(learner_id)` returns the next exercise with a one-sentence explanation;
`Recommender.feedback(...)` takes the learner's thumbs. `python -m speaksphere.learner.recommend.simulate`
compares the bandit with fixed rules and random choice on a simulated learner population.
"""

from .catalogue import Catalogue, Exercise, Prompt, load_catalogue
from .context import LearnerContext, learner_context
from .policy import BanditConfig
from .recommender import Recommendation, RecommendConfig, Recommender, load_recommend_config

__all__ = [
    "BanditConfig", "Catalogue", "Exercise", "LearnerContext", "Recommendation", "RecommendConfig", "Recommender",
    "Prompt", "learner_context", "load_catalogue", "load_recommend_config",
]
