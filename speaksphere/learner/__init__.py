"""What SpeakSphere keeps about a learner and does with it.

store: learners, attempts, recommendations and feedback in a local SQLite file (LearnerStore), with its
schema (schema.py: tables as numbered migrations) and the learner's export (export.py: JSON or CSV);
progress: score history, smoothed levels and trends for the Progress tab;
recommend: the contextual-bandit recommender over the exercise catalogue, and its simulation.
Nothing here imports the model, the scorer or gradio: it works on scores already computed.
"""
