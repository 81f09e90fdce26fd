"""Stage 2, train: phase 1 on knowledge, phase 2 on skills plus replay, with checkpoint selection."""
