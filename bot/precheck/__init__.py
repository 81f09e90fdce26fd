"""The precheck: the current model answers a PR's seed questions after triage; its check run and comment section."""
