"""Bridges from durasim to real durable-execution platforms.

durasim's engine claims to write the same event histories as Temporal. A claim like that
is only worth something if it can be checked, so this package runs the same workflows on
the real thing (a local Temporal dev server) and fetches what it recorded. Every bridge
imports its platform's SDK lazily, so ``import durasim`` works without the optional extras.
"""
