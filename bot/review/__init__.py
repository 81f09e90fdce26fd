"""The review workflow: commands in PR comments, LGTMs at the head commit, approve and merge.

`commands` parses comments, `state` derives the review state from the PR's timeline, `effects`
turns it into labels, a commit status, a merge and replies. All three are sans-I/O; the handler
reads the timeline through the forge and applies the plan.
"""
