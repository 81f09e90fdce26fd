"""Content checks: PII, duplicates, avoid-topics, LLM-written text, PR template, DCO (one module each)."""
