"""Stage 4, publish: the folder people download, with its model card and report."""
