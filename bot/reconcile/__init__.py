"""Reconciliation: what GitHub never delivered (the bot was down, or busy) is picked up with no person involved."""
