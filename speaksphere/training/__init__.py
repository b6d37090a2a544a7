"""What train.py needs beyond the model: encodings of every analysis window cached once, and the
leave-one-voice-out folds that give honest figures. Imports the model and the data code; neither
imports it."""
