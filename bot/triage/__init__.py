"""Triage: run the checks on a PR head and publish the check run, the comment's triage section and
labels; the duplicate index.
"""
