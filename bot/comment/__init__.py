"""The sticky comment and labels: one marked comment per PR, escaping of every piece of user text, the
labels the bot owns.
"""
