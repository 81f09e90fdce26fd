"""`/generate`: a preview of the training data a PR would give, made by the weekly build's own flows."""
