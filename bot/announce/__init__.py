"""Announce a published build on the merged PRs whose content went into it."""
