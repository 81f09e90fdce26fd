"""Stage 1, generate: leaves and their documents to synthetic training data through a teacher model."""
