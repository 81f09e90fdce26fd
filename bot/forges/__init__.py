"""The forges: the narrow `Forge` interface every handler talks through, GitHub behind it, and a local
git repository for dry runs.
"""
